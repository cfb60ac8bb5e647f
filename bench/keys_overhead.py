"""What relay keys and the upstream pool add to each request: a measurement, not a test.

Runs the relay under daphne against the 1min.ai simulator in up to three set-ups: passthrough (the
client's own key; the baseline), managed with process memory as the shared state, and managed with
Redis (when Redis answers at REDIS_URL, default redis://127.0.0.1:6379/0). Managed set-ups resolve a
relay key (cached lookup) and draw from a three-key pool (round robin) on every call. For each it
times sequential chat calls (latency) and a concurrent burst (throughput), alternating set-ups
round by round so machine noise hits all alike. Writes bench/reports/keys-overhead.md (and .json).

    .venv/bin/python bench/keys_overhead.py [--rounds 3] [--requests 200] [--concurrency 16]
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path


ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.relay_calls import burst, redis_answers, sequential  # noqa: E402
from tests.onemin_simulator import Simulator  # noqa: E402
from tests.relay_admin import ENCRYPTION_KEY  # noqa: E402
from tests.relay_process import RelayProcess, base_env, migrate, new_workdir  # noqa: E402

REPORTS = ROOT / "bench" / "reports"
CHAT = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Say hello in five words."}]}
# Limits out of the way, so only the key handling differs between set-ups.
QUIET = {"RATE_LIMITS_ENABLED": "false", "USAGE_ENABLED": "false", "LOG_LEVEL": "WARNING"}
MANAGED = {"RELAY_AUTH_MODE": "managed", "RELAY_ENCRYPTION_KEY": ENCRYPTION_KEY}


def manage(env: dict[str, str], *args: str, stdin: str | None = None) -> str:
    done = subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, input=stdin,
                          capture_output=True, text=True, check=True)
    return done.stdout.strip()


def start(sim: Simulator, workdir: Path, name: str, overrides: dict[str, str]) -> tuple[RelayProcess, str]:
    env = base_env(sim.url, workdir)
    env["DATABASE_URL"] = f"sqlite:///{workdir / f'{name}.sqlite3'}"
    env.update(QUIET)
    env.update(overrides)
    migrate(env)
    key = "bench-own-1min-key"
    if env.get("RELAY_AUTH_MODE") == "managed":
        for n in range(3):
            manage(env, "add_upstream_key", "--label", f"pool-{n}", stdin=f"bench-pool-key-{n}\n")
        key = manage(env, "create_relay_key", "--name", "bench")
    return RelayProcess(env, workdir).start(), key


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args()
    redis_url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
    setups = {"passthrough": {}, "managed (memory)": MANAGED}
    if redis_answers(redis_url):
        setups["managed (Redis)"] = {**MANAGED, "REDIS_URL": redis_url}
    workdir = new_workdir()
    results: dict[str, dict[str, list[float]]] = {name: {"latency": [], "rps": []} for name in setups}
    with Simulator() as sim:
        relays = {name: start(sim, workdir, f"bench-{i}", env) for i, (name, env) in enumerate(setups.items())}
        try:
            for name, (relay, key) in relays.items():  # warm-up: model list, pool, lookups
                asyncio.run(sequential(relay.url, key, 10, "/v1/chat/completions", CHAT))
            for _ in range(args.rounds):
                for name, (relay, key) in relays.items():
                    sim.reset()
                    results[name]["latency"] += asyncio.run(sequential(relay.url, key, args.requests, "/v1/chat/completions", CHAT))
                    results[name]["rps"].append(asyncio.run(burst(relay.url, key, args.requests, args.concurrency, CHAT)))
        finally:
            for relay, _ in relays.values():
                relay.stop()
    report(results, args)


def report(results: dict[str, dict[str, list[float]]], args: argparse.Namespace) -> None:
    REPORTS.mkdir(parents=True, exist_ok=True)
    summary = {
        name: {
            "median_ms": statistics.median(r["latency"]),
            "p95_ms": statistics.quantiles(r["latency"], n=20)[-1],
            "requests_per_second": statistics.median(r["rps"]),
        }
        for name, r in results.items()
    }
    lines = [
        "# Relay keys and pool: overhead per request",
        "",
        f"{datetime.now(timezone.utc):%Y-%m-%d %H:%M UTC}, Python {platform.python_version()}, {os.cpu_count()} CPUs; "
        f"{args.rounds} rounds × {args.requests} sequential chat calls and a burst of {args.requests} at "
        f"concurrency {args.concurrency}, against the simulator.",
        "",
        "| set-up | median latency (ms) | p95 latency (ms) | burst (requests/s) |",
        "| --- | --- | --- | --- |",
        *(f"| {name} | {s['median_ms']:.2f} | {s['p95_ms']:.2f} | {s['requests_per_second']:.0f} |"
          for name, s in summary.items()),
    ]
    (REPORTS / "keys-overhead.md").write_text("\n".join(lines) + "\n")
    (REPORTS / "keys-overhead.json").write_text(json.dumps(summary, indent=2) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
