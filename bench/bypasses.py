"""What the relay's fast paths past Django's and adrf's stock handling save, measured side by side.

`python -m bench.bypasses [--quick]` starts the simulator and two relays, one as served
(FRAMEWORK_FAST_PATHS on: relay_site/api_handler.py and api/views/base.py) and one with
FRAMEWORK_FAST_PATHS=false (every request through Django's ASGIHandler with the full middleware
list, adrf's dispatch with `initial()` in a thread, DRF's Response rendered by Django), each pinned
to CPU 0, and writes bench/reports/bypasses.md with the before/after table docs/architecture.md cites.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import tempfile
from datetime import date
from pathlib import Path

import psutil

from bench import loadgen, procs
from bench.run import AUTH, CHAT, HELPER_CPU, RELAY_CPU, _is_chat, _is_relay_stream
from bench.scenarios import Bench, Endpoint

REPORTS = Path(__file__).resolve().parent / "reports"


async def measure(quick: bool, workdir: Path) -> dict[str, dict[str, dict]]:
    d = 0.3 if quick else 1.0
    sim = procs.simulator(workdir, HELPER_CPU).start()
    env = procs.relay_env(sim, workdir)
    procs.migrate(env)
    psutil.Process().cpu_affinity(HELPER_CPU)
    results: dict[str, dict[str, dict]] = {}
    try:
        for label, fast in (("stock (fast paths off)", "false"), ("relay (fast paths on)", "true")):
            relay = procs.relay(f"relay-{fast}", {**env, "FRAMEWORK_FAST_PATHS": fast}, workdir, RELAY_CPU).start()
            try:
                async with loadgen.client() as http:
                    bench = Bench(http, sim, [sim])
                    url = f"{relay.url}/v1/chat/completions"
                    chat = Endpoint("chat", loadgen.Target(url, json.dumps(CHAT).encode(), AUTH), relay, _is_chat)
                    stream = Endpoint("stream", loadgen.Target(url, json.dumps({**CHAT, "stream": True}).encode(), AUTH,
                                                               stream=True), relay, _is_relay_stream)
                    for ep in (chat, stream):  # warm-up: imports, the model list, pools
                        await bench.measure(ep, connections=4, duration=2 * d)
                    results[label] = {
                        "chat, 1 connection": await bench.measure(chat, connections=1, duration=8 * d),
                        "chat, 64 connections": await bench.measure(chat, connections=64, duration=10 * d),
                        "stream, 64 connections": await bench.measure(stream, connections=64, duration=10 * d),
                    }
            finally:
                relay.stop()
    finally:
        sim.stop()
    return results


def report(results: dict[str, dict[str, dict]], quick: bool) -> str:
    lines = [
        f"# Fast paths vs Django's and adrf's stock handling, {date.today().isoformat()}",
        "",
        "`python -m bench.bypasses" + (" --quick" if quick else "") + "`: one daphne process pinned to CPU 0 per row, "
        "the simulator and the load generator on CPU 1, a one-line non-streaming and streaming chat. "
        f"Load average at the end: {', '.join(f'{x:.2f}' for x in os.getloadavg())} (other work on this shared "
        "machine shows in req/s more than in CPU per request, which is the server process's own CPU time).",
        "",
        "| Handling | Load | req/s | CPU ms/req | p50 ms | p99 ms | errors |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for label, runs in results.items():
        for load, s in runs.items():
            lines.append(
                f"| {label} | {load} | {s['achieved_rps']:.0f} | {s['cpu_ms_per_request']:.2f} | "
                f"{s['latency_ms']['p50']:.2f} | {s['latency_ms']['p99']:.2f} | {s['requests'] - s['ok']} |"
            )
    stock, ours = results["stock (fast paths off)"], results["relay (fast paths on)"]
    lines += ["", "Saved by the fast paths (CPU per request):", ""]
    for load in ours:
        before, after = stock[load]["cpu_ms_per_request"], ours[load]["cpu_ms_per_request"]
        lines.append(f"- {load}: {before:.2f} → {after:.2f} ms ({(1 - after / before) * 100:.0f}% less)")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="shorter runs (a smoke test of the bench)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="relay-bench-") as workdir:
        results = asyncio.run(measure(args.quick, Path(workdir)))
    REPORTS.mkdir(exist_ok=True)
    (REPORTS / "bypasses.json").write_text(json.dumps(results, indent=1, default=str))
    text = report(results, args.quick)
    (REPORTS / "bypasses.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
