"""What rate limits and usage accounting add to each request: a measurement, not a test.

Runs the relay under daphne against the 1min.ai simulator in three set-ups: limits and accounting
off (the baseline), on with in-process counters, and on with Redis counters (when Redis answers at
REDIS_URL, default redis://127.0.0.1:6379/0). For each it times sequential requests (latency) and a
concurrent burst (throughput), alternating set-ups round by round so machine noise hits all alike.
Writes bench/reports/quotas-overhead.md (and .json). Usage:

    .venv/bin/python bench/quotas_overhead.py [--rounds 5] [--requests 200] [--concurrency 16]
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import sys
import time
from datetime import datetime, timezone
from pathlib import Path


ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.relay_calls import burst, redis_answers, sequential  # noqa: E402
from tests.onemin_simulator import Simulator  # noqa: E402
from tests.relay_process import RelayProcess, base_env, migrate, new_workdir  # noqa: E402

REPORTS = ROOT / "bench" / "reports"
KEY = "bench-key"
CHAT = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Say hello in five words."}], "max_tokens": 50}
HIGH = {"RATE_LIMIT_REQUESTS_PER_MINUTE": "100000000", "RATE_LIMIT_TOKENS_PER_MINUTE": "100000000000"}


def setups(redis_url: str | None) -> dict[str, dict[str, str]]:
    found = {
        "off": {"RATE_LIMITS_ENABLED": "false", "USAGE_ENABLED": "false"},
        "memory": {**HIGH, "USAGE_ENABLED": "true"},
    }
    if redis_url:
        found["redis"] = {**HIGH, "USAGE_ENABLED": "true", "REDIS_URL": redis_url}
    return found


def in_process(env: dict[str, str], redis_url: str | None) -> dict[str, float]:
    """Microseconds of CPU-and-I/O per call for each piece, measured inside one process (no HTTP)."""
    os.environ.update({"DJANGO_SETTINGS_MODULE": "relay_site.settings", "DATABASE_URL": env["DATABASE_URL"],
                       "CACHE_KEY_PREFIX": env["CACHE_KEY_PREFIX"], "LOG_LEVEL": "WARNING"})
    import django

    django.setup()
    from django.conf import settings

    from core import token_counting
    from core.call_context import CallContext
    from quotas import limits
    from quotas.policies import Limits, PolicyTable
    from quotas.token_estimate import from_body
    from quotas.usage import row_of, write_batch

    token_counting.warm_up()
    table = PolicyTable(Limits("bench", 10**9, 10**12, 0, 0, None))
    found: dict[str, float] = {}

    def timed(label: str, count: int, function) -> None:
        started = time.perf_counter()
        function(count)
        found[label] = (time.perf_counter() - started) / count * 1e6

    timed("estimate the prompt tokens of a chat body", 5000, lambda n: [from_body(CHAT, True) for _ in range(n)])

    async def admit_and_settle(n: int) -> None:
        for _ in range(n):
            call = CallContext(endpoint="chat.completions", client_ip="192.0.2.1", key_fingerprint="ab" * 16)
            await limits.admit(call, from_body(CHAT, True), table)
            call.note_usage(12, 7)
            await call.finish()

    settings.REDIS_URL = ""
    timed("admit + settle, in-process counters (estimate included)", 5000, lambda n: asyncio.run(admit_and_settle(n)))
    if redis_url:
        settings.REDIS_URL = redis_url
        timed("admit + settle, Redis counters (two round trips)", 2000, lambda n: asyncio.run(admit_and_settle(n)))
    call = CallContext(endpoint="chat.completions", client_ip="192.0.2.1", key_fingerprint="ab" * 16, model="gpt-4o-mini")
    write_batch([row_of(call)])  # connection and first-statement costs out of the way
    timed("write one usage record in a batch of 500 (SQLite, worker thread in the relay)", 2500,
          lambda n: [write_batch([row_of(call) for _ in range(500)]) for _ in range(n // 500)])
    return found


def summary(times: list[float]) -> dict[str, float]:
    ordered = sorted(times)
    return {"mean": statistics.fmean(ordered), "p50": ordered[len(ordered) // 2],
            "p95": ordered[int(len(ordered) * 0.95) - 1], "n": len(ordered)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--requests", type=int, default=200, help="sequential requests per round and endpoint")
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args()
    redis_url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
    redis_url = redis_url if redis_answers(redis_url) else None

    sim = Simulator().start()
    workdir = new_workdir()
    relays: dict[str, RelayProcess] = {}
    results: dict[str, dict[str, list]] = {}
    micro_env = base_env(sim.url, workdir)
    migrate(micro_env)
    micro = in_process(micro_env, redis_url)
    try:
        for name, overrides in setups(redis_url).items():
            env = {**base_env(sim.url, workdir), **overrides, "LOG_LEVEL": "WARNING"}
            migrate(env)
            relays[name] = RelayProcess(env, workdir).start()
            asyncio.run(sequential(relays[name].url, KEY, 30, "/v1/chat/completions", CHAT))  # warm up
            results[name] = {"chat": [], "models": [], "throughput": []}
        for round_number in range(args.rounds):
            for name, relay in relays.items():
                results[name]["chat"] += asyncio.run(sequential(relay.url, KEY, args.requests, "/v1/chat/completions", CHAT))
                results[name]["models"] += asyncio.run(sequential(relay.url, KEY, args.requests, "/v1/models", None))
                results[name]["throughput"].append(asyncio.run(burst(relay.url, KEY, args.requests, args.concurrency, CHAT)))
            print(f"round {round_number + 1}/{args.rounds} done", flush=True)
    finally:
        for relay in relays.values():
            relay.stop()
        sim.stop()
    write_report(results, micro, args, redis_url)
    return 0


def write_report(results: dict, micro: dict[str, float], args, redis_url: str | None) -> None:
    REPORTS.mkdir(parents=True, exist_ok=True)
    table = {name: {"chat": summary(r["chat"]), "models": summary(r["models"]),
                    "throughput": statistics.median(r["throughput"])} for name, r in results.items()}
    base = table["off"]
    lines = [
        "# What limits and usage accounting add per request",
        "",
        f"Measured {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC by `bench/quotas_overhead.py` on {platform.node()} "
        f"({os.cpu_count()} CPUs, Python {platform.python_version()}); {args.rounds} rounds × {args.requests} sequential "
        f"requests per endpoint, bursts of {args.requests} chat calls {args.concurrency} at a time; set-ups alternate "
        "each round. The relay runs under daphne on SQLite against the local 1min.ai simulator; the client runs on the "
        "same machine. Other work on the machine adds noise: compare the differences, not the absolute numbers.",
        "",
        "| set-up | chat mean ms | chat p50 | chat p95 | models mean ms | models p50 | models p95 | chat req/s (median burst) |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for name, row in table.items():
        lines.append(
            f"| {name} | {row['chat']['mean']:.2f} | {row['chat']['p50']:.2f} | {row['chat']['p95']:.2f} | "
            f"{row['models']['mean']:.2f} | {row['models']['p50']:.2f} | {row['models']['p95']:.2f} | {row['throughput']:.0f} |"
        )
    lines += ["", "Added per request, against `off` (p50 of sequential calls):", ""]
    for name, row in table.items():
        if name != "off":
            lines.append(f"- **{name}**: chat {row['chat']['p50'] - base['chat']['p50']:+.2f} ms, "
                         f"models {row['models']['p50'] - base['models']['p50']:+.2f} ms, "
                         f"burst throughput {100 * (row['throughput'] / base['throughput'] - 1):+.1f}%")
    lines += ["", "Inside one process, without HTTP (less noisy; microseconds per call):", "",
              "| piece | µs per call |", "| --- | --- |"]
    lines += [f"| {label} | {value:.1f} |" for label, value in micro.items()]
    lines += ["", "Set-ups: `off` = `RATE_LIMITS_ENABLED=false USAGE_ENABLED=false`; `memory` = limits with in-process "
              "counters and usage records (batched SQLite writes); `redis` = the same with the counters in Redis "
              f"({'measured' if redis_url else 'not measured: Redis did not answer'}). Limits were set far above the load, "
              "so every call is counted and settled but none is refused.", ""]
    (REPORTS / "quotas-overhead.md").write_text("\n".join(lines))
    (REPORTS / "quotas-overhead.json").write_text(
        json.dumps({"summary": table, "in_process_us": micro, "args": vars(args)}, indent=2))
    print("\n".join(lines))


if __name__ == "__main__":
    sys.exit(main())
