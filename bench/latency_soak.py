"""Latency soak: one connection, a steady 50 requests a second for N minutes, against a relay under
daphne and the simulator (loopback); reports the median, the tail and every request slower than the
median + 50 ms, with when it happened, so a periodic pause (GC, a cache refresh, a flush) shows.

    .venv/bin/python bench/latency_soak.py [--minutes 10] [--rate 50] [--report bench/reports/latency-soak.md]
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.onemin_simulator import Simulator  # noqa: E402
from tests.relay_process import RelayProcess, base_env, migrate, new_workdir  # noqa: E402

KEY = "sk-latency-soak-0123456789"
BODY = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Say hi."}]}
MARGIN_S = 0.050  # the target: nothing slower than the median by more than this


def _metric(text: str, name: str) -> float:
    total = 0.0
    for line in text.splitlines():
        if line.startswith(name) and not line.startswith("#"):
            total += float(line.rsplit(" ", 1)[1])
    return total


def run(minutes: float, rate: float) -> dict:
    sim = Simulator().start()
    workdir = new_workdir()
    env = base_env(sim.url, workdir)
    env.pop("REDIS_URL", None)
    env.update({"DATABASE_URL": f"sqlite:///{workdir / 'latency.sqlite3'}", "LOG_LEVEL": "WARNING"})
    migrate(env)
    relay = RelayProcess(env, workdir).start()
    headers = {"Authorization": f"Bearer {KEY}"}
    samples: list[tuple[float, float, int]] = []  # (seconds since start, latency, status)
    try:
        with httpx.Client(base_url=relay.url, timeout=30, limits=httpx.Limits(max_connections=1)) as http:
            # As a load balancer would: no traffic before /readyz says yes (the warm-up is over).
            ready_by = time.monotonic() + 60
            while http.get("/readyz").status_code != 200 and time.monotonic() < ready_by:
                time.sleep(0.1)  # polling with a deadline
            for _ in range(200):  # warm-up: model cache, token tables, connection pools
                http.post("/v1/chat/completions", json=BODY, headers=headers)
            metrics_before = http.get("/metrics").text
            interval, started = 1.0 / rate, time.perf_counter()
            deadline = started + minutes * 60
            next_at = started
            while next_at < deadline:
                now = time.perf_counter()
                if now < next_at:
                    time.sleep(next_at - now)  # pacing the load, not synchronising
                sent = time.perf_counter()
                status = http.post("/v1/chat/completions", json=BODY, headers=headers).status_code
                samples.append((sent - started, time.perf_counter() - sent, status))
                # A slow answer is not followed by a burst: the schedule moves on.
                next_at = max(next_at + interval, time.perf_counter())
            metrics_after = http.get("/metrics").text
    finally:
        relay.stop()
        sim.stop()
    latencies = sorted(s[1] for s in samples)
    median = statistics.median(latencies)
    slow = [s for s in samples if s[1] > median + MARGIN_S]
    quantile = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))]  # noqa: E731
    gen2 = 'python_gc_collections_total{generation="2"}'
    return {
        "minutes": minutes, "rate": rate, "requests": len(samples),
        "non_200": sum(1 for s in samples if s[2] != 200),
        "median_ms": median * 1000, "p99_ms": quantile(0.99) * 1000, "p999_ms": quantile(0.999) * 1000,
        "max_ms": latencies[-1] * 1000,
        "over_median_plus_50ms": [{"at_s": round(s[0], 2), "ms": round(s[1] * 1000, 1)} for s in slow],
        "gen2_collections": _metric(metrics_after, gen2) - _metric(metrics_before, gen2),
        "target_met": not slow,
    }


def markdown(result: dict) -> str:
    lines = [
        f"# Latency soak: {result['minutes']:g} min at {result['rate']:g} req/s, one connection",
        "",
        f"`python bench/latency_soak.py --minutes {result['minutes']:g} --rate {result['rate']:g}` "
        "(relay under daphne, simulator upstream, SQLite, loopback; a shared 2-core machine).",
        "",
        "| requests | non-200 | median | p99 | p99.9 | max | over median+50 ms | gen-2 GCs |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
        f"| {result['requests']} | {result['non_200']} | {result['median_ms']:.1f} ms | {result['p99_ms']:.1f} ms "
        f"| {result['p999_ms']:.1f} ms | {result['max_ms']:.1f} ms | {len(result['over_median_plus_50ms'])} "
        f"| {result['gen2_collections']:g} |",
        "",
        f"Target (nothing over median + 50 ms): **{'met' if result['target_met'] else 'not met'}**.",
    ]
    if result["over_median_plus_50ms"]:
        lines += ["", "Slow requests (seconds into the run, latency):", ""]
        lines += [f"- {s['at_s']} s: {s['ms']} ms" for s in result["over_median_plus_50ms"][:50]]
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--rate", type=float, default=50.0)
    parser.add_argument("--report", type=Path, default=None, help="write a Markdown report (and .json beside it)")
    args = parser.parse_args()
    result = run(args.minutes, args.rate)
    text = markdown(result)
    print(text)
    if args.report:
        args.report.parent.mkdir(parents=True, exist_ok=True)
        args.report.write_text(text)
        args.report.with_suffix(".json").write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
