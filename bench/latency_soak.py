"""Latency soak: one connection, a steady 50 requests a second for N minutes, against a relay under
daphne and the simulator (loopback); reports the median, the tail and every request slower than the
median + 50 ms, with when it happened, so a periodic pause (GC, a cache refresh, a flush) shows.

Each slow request is attributed (bench/soak_attribution.py): to the relay's own work, to CPU taken by
other processes, or to what lies outside the relay. With `--probe`, the relay also logs its long
garbage collections and event-loop callbacks (bench/soak_probe), and each slow request names them.

    .venv/bin/python bench/latency_soak.py [--minutes 10] [--rate 50] [--probe] [--report bench/reports/latency-soak.md]
"""
from __future__ import annotations

import argparse
import gc
import json
import os
import statistics
import sys
import threading
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.soak_attribution import (  # noqa: E402
    CLASSES, Threads, attribute, causes_between, cpu_seconds, machine_busy_seconds, probe_events,
)
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


def run(minutes: float, rate: float, probe: bool = False) -> dict:
    sim = Simulator().start()
    # Its request log would grow by a dict per request in this process, and every full collection
    # would walk it: pauses of client and simulator growing to 60-100 ms within minutes (the five slow
    # requests of the first 10-minute run, at 132-528 s, were these).
    sim.configure(record_requests=False)
    workdir = new_workdir()
    env = base_env(sim.url, workdir)
    env.pop("REDIS_URL", None)
    env.update({"DATABASE_URL": f"sqlite:///{workdir / 'latency.sqlite3'}", "LOG_LEVEL": "WARNING"})
    migrate(env)
    probe_log = workdir / "probe.log"
    if probe:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT / "bench" / "soak_probe"), env.get("PYTHONPATH")]))
        env["SOAK_PROBE_LOG"] = str(probe_log)
    relay = RelayProcess(env, workdir).start()
    simulator_thread = next((t for t in threading.enumerate() if t.name == "onemin-simulator"), None)
    threads = Threads(relay.proc.pid, simulator_thread.native_id if simulator_thread else None)
    headers = {"Authorization": f"Bearer {KEY}"}
    # Per request: seconds since start, latency (s), status, the relay's overhead header (ms), then
    # the ms the relay loop ran and waited, its other threads ran, the client and the simulator ran
    # and waited (bench/soak_attribution.Threads.read).
    samples: list[tuple[float, ...]] = []
    try:
        with httpx.Client(base_url=relay.url, timeout=30, limits=httpx.Limits(max_connections=1)) as http:
            # As a load balancer would: no traffic before /readyz says yes (the warm-up is over).
            ready_by = time.monotonic() + 60
            while http.get("/readyz").status_code != 200 and time.monotonic() < ready_by:
                time.sleep(0.1)  # polling with a deadline
            for _ in range(200):  # warm-up: model cache, token tables, connection pools
                http.post("/v1/chat/completions", json=BODY, headers=headers)
            metrics_before = http.get("/metrics").text
            # This process (client and simulator) is not what is measured: its warm heap is frozen so
            # that its own full collections stay short (they were 15-20 ms, 100 ms on a busy machine).
            gc.collect()
            gc.freeze()
            load = _LoadMeter(relay.proc.pid)
            interval, started = 1.0 / rate, time.perf_counter()
            deadline = started + minutes * 60
            next_at = started
            while next_at < deadline:
                now = time.perf_counter()
                if now < next_at:
                    time.sleep(next_at - now)  # pacing the load, not synchronising
                before = threads.read()
                sent = time.perf_counter()
                response = http.post("/v1/chat/completions", json=BODY, headers=headers)
                latency = time.perf_counter() - sent
                after = threads.read()
                overhead = float(response.headers.get("x-relay-overhead-ms", "nan"))
                samples.append((sent - started, latency, response.status_code, overhead,
                                *(b - a for a, b in zip(before, after))))
                # A slow answer is not followed by a burst: the schedule moves on.
                next_at = max(next_at + interval, time.perf_counter())
            machine = load.done(time.perf_counter() - started)
            metrics_after = http.get("/metrics").text
    finally:
        relay.stop()
        sim.stop()
        gc.unfreeze()
    latencies = sorted(s[1] for s in samples)
    median = statistics.median(latencies)
    median_overhead = statistics.median(s[3] for s in samples)
    median_loop_cpu = statistics.median(s[4] for s in samples)
    slow = [s for s in samples if s[1] > median + MARGIN_S]
    quantile = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))]  # noqa: E731
    gen2 = 'python_gc_collections_total{generation="2"}'
    events = probe_events(probe_log) if probe else []
    return {
        "minutes": minutes, "rate": rate, "requests": len(samples),
        "non_200": sum(1 for s in samples if s[2] != 200),
        "median_ms": median * 1000, "p99_ms": quantile(0.99) * 1000, "p999_ms": quantile(0.999) * 1000,
        "max_ms": latencies[-1] * 1000,
        "median_overhead_ms": median_overhead,
        "median_loop_cpu_ms": median_loop_cpu,
        "over_median_plus_50ms": [_slow(s, median, median_overhead, median_loop_cpu, started, events, probe)
                                  for s in slow],
        "gen2_collections": _metric(metrics_after, gen2) - _metric(metrics_before, gen2),
        "attributed": threads.available,
        "machine": machine,
        "probe": probe,
        "target_met": not slow,
    }


class _LoadMeter:
    """How busy the machine was during the run, and how much of that was the soak's own processes."""

    def __init__(self, relay_pid: int) -> None:
        self.relay_pid = relay_pid
        self.load_before = os.getloadavg()[0]
        self.busy, self.ours = machine_busy_seconds(), cpu_seconds(relay_pid) + cpu_seconds()

    def done(self, seconds: float) -> dict:
        busy = machine_busy_seconds() - self.busy
        ours = cpu_seconds(self.relay_pid) + cpu_seconds() - self.ours
        return {"cpus": os.cpu_count(), "load_average_before": self.load_before,
                "load_average_after": os.getloadavg()[0],
                "busy_cpus": round(busy / seconds, 2), "soak_cpus": round(ours / seconds, 2),
                "other_cpus": round(max(0.0, busy - ours) / seconds, 2)}


def _slow(sample: tuple[float, ...], median: float, median_overhead: float, median_loop_cpu: float,
          started: float, events: list[tuple[float, float, str]], probe: bool) -> dict:
    (at, latency, _status, overhead, loop_run, loop_wait, workers_run,
     client_run, client_wait, simulator_run, simulator_wait) = sample
    share = attribute((latency - median) * 1000, overhead - median_overhead, loop_run - median_loop_cpu,
                      loop_wait, client_wait, simulator_wait)
    row = {
        "at_s": round(at, 2), "ms": round(latency * 1000, 1), "cause": share.kind,
        "relay_overhead_ms": round(overhead, 1), "relay_loop_cpu_ms": round(loop_run, 1),
        "relay_loop_wait_ms": round(loop_wait, 1), "relay_workers_cpu_ms": round(workers_run, 1),
        "client_cpu_ms": round(client_run + simulator_run, 1),
        "client_wait_ms": round(client_wait + simulator_wait, 1),
        "shares_ms": {"starved": round(share.starved_ms, 1), "relay": round(share.relay_ms, 1),
                      "outside": round(share.outside_ms, 1)},
    }
    if probe:
        row["relay_events"] = causes_between(events, started + at, started + at + latency)
    return row


def markdown(result: dict) -> str:
    lines = [
        f"# Latency soak: {result['minutes']:g} min at {result['rate']:g} req/s, one connection",
        "",
        f"`python bench/latency_soak.py --minutes {result['minutes']:g} --rate {result['rate']:g}"
        f"{' --probe' if result.get('probe') else ''}` "
        "(relay under daphne, simulator upstream, SQLite, loopback; a shared 2-core machine).",
        "",
        "| requests | non-200 | median | p99 | p99.9 | max | over median+50 ms | gen-2 GCs |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
        f"| {result['requests']} | {result['non_200']} | {result['median_ms']:.1f} ms | {result['p99_ms']:.1f} ms "
        f"| {result['p999_ms']:.1f} ms | {result['max_ms']:.1f} ms | {len(result['over_median_plus_50ms'])} "
        f"| {result['gen2_collections']:g} |",
        "",
        f"Target (nothing over median + 50 ms): **{'met' if result['target_met'] else 'not met'}**. "
        f"Per request, the relay's median overhead (`x-relay-overhead-ms`) was {result['median_overhead_ms']:.2f} ms "
        f"and its event loop's median CPU time {result['median_loop_cpu_ms']:.2f} ms."
        + (" The relay ran with the probe (`--probe`)." if result.get("probe") else ""),
    ]
    machine = result.get("machine")
    if machine:
        lines += ["", f"Machine during the run: {machine['busy_cpus']:g} of {machine['cpus']} CPUs busy on average, "
                  f"{machine['soak_cpus']:g} by the soak itself (relay, client, simulator) and {machine['other_cpus']:g} "
                  f"by other processes; load average {machine['load_average_before']:.2f} before, "
                  f"{machine['load_average_after']:.2f} after."]
    slow = result["over_median_plus_50ms"]
    if slow and result.get("attributed"):
        counts = {kind: sum(1 for s in slow if s["cause"] == kind) for kind in CLASSES}
        lines += ["", "Where the slow requests lost their time (bench/soak_attribution.py; the largest share names "
                  "the cause):", ""]
        lines += [f"- {counts[kind]} {label}" for kind, label in CLASSES.items()]
    if slow:
        lines += ["", "Slow requests (seconds into the run, latency):", ""]
        lines += [f"- {s['at_s']} s: {s['ms']} ms{_explained(s, result)}" for s in slow[:50]]
    return "\n".join(lines) + "\n"


def _explained(slow: dict, result: dict) -> str:
    if not result.get("attributed"):
        return ""
    text = (f" ({CLASSES[slow['cause']]}; relay overhead {slow['relay_overhead_ms']:g} ms, its loop ran "
            f"{slow['relay_loop_cpu_ms']:g} ms and waited {slow['relay_loop_wait_ms']:g} ms for a CPU, "
            f"its other threads ran {slow['relay_workers_cpu_ms']:g} ms; client and simulator ran "
            f"{slow['client_cpu_ms']:g} ms and waited {slow['client_wait_ms']:g} ms")
    if result.get("probe"):
        text += "; in the relay: " + (", ".join(slow["relay_events"]) or "nothing over the probe's thresholds")
    return text + ")"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--rate", type=float, default=50.0)
    parser.add_argument("--probe", action="store_true",
                        help="log the relay's long garbage collections and loop callbacks (bench/soak_probe)")
    parser.add_argument("--report", type=Path, default=None, help="write a Markdown report (and .json beside it)")
    args = parser.parse_args()
    result = run(args.minutes, args.rate, args.probe)
    text = markdown(result)
    print(text)
    if args.report:
        args.report.parent.mkdir(parents=True, exist_ok=True)
        args.report.write_text(text)
        args.report.with_suffix(".json").write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
