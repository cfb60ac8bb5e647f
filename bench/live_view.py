"""What the admin's live view costs the API: CPU per request with it off, and on with a watcher.

`python -m bench.live_view [--quick] [--rounds 3]` starts the simulator and two relays pinned to
CPU 0, one with LIVE_VIEW=false and one as served (LIVE_VIEW on, LIVE_PUBLISH_SECONDS default)
with one staff WebSocket watcher (its own process) reading every snapshot; the simulator, the load
generator and the watcher run on CPU 1. Both get the same constant request rates; rounds alternate
between the two so machine noise hits both alike; the median per load is reported. Writes bench/reports/live-view.md (and .json).
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import signal
import subprocess
import sys
import tempfile
import uuid
from datetime import datetime, timezone
from pathlib import Path

import httpx
import psutil
from websockets.sync.client import connect

from bench import loadgen, procs
from bench.scenarios import Bench, Endpoint

# As bench/run.py (not imported: it needs the plotting libraries, this bench draws nothing).
CHAT = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Say hi in one word."}]}
AUTH = {"Authorization": "Bearer bench-key-0123456789", "Content-Type": "application/json"}
RELAY_CPU, HELPER_CPU = [0], [1]
REPORTS = Path(__file__).resolve().parent / "reports"
SETUPS = {"live view off": "false", "live view on, 1 watcher": "true"}
TARGET_PERCENT = 5.0


class Watcher:
    """A staff WebSocket on the live view reading every snapshot, in its own process on CPU 1 (so it
    takes no GIL time from the load generator); its CPU is counted as the bench's, not the relay's."""

    def __init__(self, relay: procs.Proc, workdir: Path) -> None:
        username, password = f"bench-{uuid.uuid4().hex[:8]}", uuid.uuid4().hex
        subprocess.run([procs.PY, "manage.py", "createsuperuser", "--noinput", "--username", username,
                        "--email", "bench@example.com"], cwd=procs.ROOT, check=True, capture_output=True,
                       env={**relay.env, "DJANGO_SUPERUSER_PASSWORD": password})
        with httpx.Client(base_url=relay.url) as admin:
            page = admin.get("/admin/login/").text
            marker = 'name="csrfmiddlewaretoken" value="'
            token = page[page.index(marker) + len(marker):].split('"', 1)[0]
            admin.post("/admin/login/", data={"username": username, "password": password,
                                              "csrfmiddlewaretoken": token, "next": "/admin/"})
            session = admin.cookies["sessionid"]
        self.count_path = workdir / "watcher-count"
        self.proc = subprocess.Popen([procs.PY, "-m", "bench.live_view", "--watch", str(relay.port), session,
                                      str(self.count_path)], cwd=procs.ROOT)
        psutil.Process(self.proc.pid).cpu_affinity(HELPER_CPU)
        self.process = psutil.Process(self.proc.pid)

    def cpu_seconds(self) -> float:
        times = self.process.cpu_times()
        return times.user + times.system

    def close(self) -> int:
        """Stop watching; the number of snapshots it received."""
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=10)
        return int(self.count_path.read_text() or 0) if self.count_path.exists() else 0


def watch(port: str, session: str, count_path: str) -> None:
    """The watcher process: read snapshots until SIGTERM, then write how many arrived."""
    received = 0
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(SystemExit))
    try:
        with connect(f"ws://127.0.0.1:{port}/admin/live/socket", origin=f"http://127.0.0.1:{port}",
                     additional_headers={"Cookie": f"sessionid={session}"}) as socket:
            for _ in socket:
                received += 1
    except SystemExit:
        pass
    finally:
        Path(count_path).write_text(str(received))


# Constant offered rates, so both set-ups serve the same requests per second: CPU per request is
# then compared like for like (a saturated run's CPU per request moves with its throughput).
LOADS = {"chat, 100 req/s": ("chat", 100), "chat, 250 req/s": ("chat", 250), "stream, 100 req/s": ("stream", 100)}


async def measure(quick: bool, rounds: int, workdir: Path) -> tuple[dict[str, dict[str, list[dict]]], int]:
    d = 0.3 if quick else 1.0
    sim = procs.simulator(workdir, HELPER_CPU).start()
    env = procs.relay_env(sim, workdir)
    procs.migrate(env)
    psutil.Process().cpu_affinity(HELPER_CPU)
    results: dict[str, dict[str, list[dict]]] = {label: {} for label in SETUPS}
    relays = {label: procs.relay(f"relay-live-{flag}", {**env, "LIVE_VIEW": flag}, workdir, RELAY_CPU).start()
              for label, flag in SETUPS.items()}
    watcher = Watcher(relays["live view on, 1 watcher"], workdir)
    snapshots = 0
    try:
        async with loadgen.client() as http:
            bench = Bench(http, sim, [sim, watcher])
            endpoints = {}
            for label, relay in relays.items():
                url = f"{relay.url}/v1/chat/completions"
                chat = Endpoint("chat", loadgen.Target(url, json.dumps(CHAT).encode(), AUTH), relay,
                                lambda body: b'"chat.completion"' in body)
                stream = Endpoint("stream", loadgen.Target(url, json.dumps({**CHAT, "stream": True}).encode(), AUTH,
                                                           stream=True), relay, lambda body: body.endswith(b"data: [DONE]\n\n"))
                for ep in (chat, stream):  # warm-up: imports, the model list, pools
                    await bench.measure(ep, connections=4, duration=2 * d)
                endpoints[label] = {"chat": chat, "stream": stream}
            for n in range(rounds):
                # Alternating the order too, so drift in the machine's load favours neither.
                for label in (list(SETUPS) if n % 2 == 0 else list(reversed(SETUPS))):
                    for load, (name, rate) in LOADS.items():
                        run = await bench.measure(endpoints[label][name], rate=rate, duration=8 * d)
                        results[label].setdefault(load, []).append(run)
    finally:
        snapshots = watcher.close()
        for relay in relays.values():
            relay.stop()
        sim.stop()
    return results, snapshots


def median(runs: list[dict], field: str) -> float:
    return statistics.median(r[field] for r in runs)


def in_process_costs() -> dict[str, float]:
    """Microseconds of the live view's own work, timed in this process: what a call costs on the
    request path, and what one batch costs the publisher, the hub and a watcher's snapshot."""
    import timeit

    import orjson

    from core.call_context import CallContext
    from live.feed import RECENT_PER_BATCH, Feed
    from live.window import LiveWindow

    call = CallContext(endpoint="chat.completions", client_ip="203.0.113.7", key_fingerprint="f" * 32,
                       model="gpt-4o-mini")
    call.note_usage(12, 30)
    feed, window, n = Feed(), LiveWindow(), 20_000
    hook = timeit.timeit(lambda: feed.add(call), number=n) / n * 1e6
    one = feed.calls[0]

    def batch() -> dict:
        feed.calls = [one] * RECENT_PER_BATCH
        return feed.take_batch()

    take = timeit.timeit(batch, number=2000) / 2000 * 1e6
    sample = batch()
    fold = timeit.timeit(lambda: window.add(sample), number=2000) / 2000 * 1e6
    snapshot = timeit.timeit(lambda: orjson.dumps(window.snapshot(lambda fp: fp[:10])), number=2000) / 2000 * 1e6
    return {"hook_us_per_call": hook, "take_batch_us": take, "fold_batch_us": fold, "snapshot_json_us": snapshot}


def report(results: dict[str, dict[str, list[dict]]], snapshots: int, quick: bool, rounds: int,
           costs: dict[str, float]) -> tuple[str, dict]:
    off, on = results["live view off"], results["live view on, 1 watcher"]
    summary = {
        label: {load: {"cpu_ms_per_request": median(runs, "cpu_ms_per_request"),
                       "best_cpu_ms_per_request": min(r["cpu_ms_per_request"] for r in runs),
                       "achieved_rps": median(runs, "achieved_rps"),
                       "p50_ms": statistics.median(r["latency_ms"]["p50"] for r in runs),
                       "p99_ms": statistics.median(r["latency_ms"]["p99"] for r in runs),
                       "errors": sum(r["requests"] - r["ok"] for r in runs),
                       "other_load_cores": statistics.median(r["other_load_cores"] for r in runs),
                       "cpu_ms_per_request_each_round": [round(r["cpu_ms_per_request"], 3) for r in runs]}
                for load, runs in by_load.items()}
        for label, by_load in results.items()
    }
    lines = [
        f"# Live view: CPU per API request, off vs on with a watcher, {datetime.now(timezone.utc):%Y-%m-%d %H:%M UTC}",
        "",
        "`python -m bench.live_view" + (" --quick" if quick else "") + f" --rounds {rounds}`: two daphne processes "
        "pinned to CPU 0 (one with `LIVE_VIEW=false`, one as served with one staff WebSocket watcher reading every "
        "snapshot, in its own process), the simulator, the load generator and the watcher on CPU 1; a one-line chat, "
        f"non-streaming and streaming, at the same constant rates for both. Rounds alternate between the two set-ups; medians of {rounds} rounds. CPU per request is the "
        "server process's own CPU time divided by the requests answered. Load average at the end: "
        f"{', '.join(f'{x:.2f}' for x in os.getloadavg())}; {os.cpu_count()} CPUs.",
        "",
        "| Set-up | Load | req/s | CPU ms/req | p50 ms | p99 ms | errors | other load (cores) |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for label, by_load in summary.items():
        for load, s in by_load.items():
            lines.append(f"| {label} | {load} | {s['achieved_rps']:.0f} | {s['cpu_ms_per_request']:.3f} | "
                         f"{s['p50_ms']:.2f} | {s['p99_ms']:.2f} | {s['errors']} | {s['other_load_cores']:.2f} |")
    lines += ["", f"What the live view adds (CPU per request, median of rounds and best round; target: within "
              f"{TARGET_PERCENT:.0f}%):", ""]
    deltas = {}
    for load in off:
        before, after = summary["live view off"][load], summary["live view on, 1 watcher"][load]
        deltas[load] = {"median": (after["cpu_ms_per_request"] / before["cpu_ms_per_request"] - 1) * 100,
                        "best": (after["best_cpu_ms_per_request"] / before["best_cpu_ms_per_request"] - 1) * 100}
        lines.append(f"- {load}: median {before['cpu_ms_per_request']:.3f} → {after['cpu_ms_per_request']:.3f} ms "
                     f"({deltas[load]['median']:+.1f}%), best round {before['best_cpu_ms_per_request']:.3f} → "
                     f"{after['best_cpu_ms_per_request']:.3f} ms ({deltas[load]['best']:+.1f}%)")
    per_batch = costs["take_batch_us"] + costs["fold_batch_us"] + costs["snapshot_json_us"]
    lines += [
        "", f"The watcher received {snapshots} snapshots during the run.", "",
        "The live view's own work, timed in-process (no network, no noise from other processes):", "",
        f"- on the request path: {costs['hook_us_per_call']:.2f} µs per call (the finish hook appending one tuple);",
        f"- per batch of {50} calls: {costs['take_batch_us']:.0f} µs to take it, {costs['fold_batch_us']:.0f} µs to fold it "
        f"into the window, {costs['snapshot_json_us']:.0f} µs for a watcher's snapshot as JSON ({per_batch:.0f} µs in all).",
        "",
        f"At 200 requests/s and 4 batches a second that is about {costs['hook_us_per_call'] + 4 * per_batch / 200:.1f} µs "
        "per request, before the channel layer and the WebSocket frame.",
    ]
    return "\n".join(lines) + "\n", {"summary": summary, "delta_percent": deltas, "snapshots": snapshots,
                                      "in_process_us": costs}


def main() -> None:
    if sys.argv[1:2] == ["--watch"]:
        watch(*sys.argv[2:5])
        return
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="shorter runs (a smoke test of the bench)")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="relay-bench-") as workdir:
        results, snapshots = asyncio.run(measure(args.quick, args.rounds, Path(workdir)))
    text, data = report(results, snapshots, args.quick, args.rounds, in_process_costs())
    REPORTS.mkdir(exist_ok=True)
    (REPORTS / "live-view.json").write_text(json.dumps(data, indent=1) + "\n")
    (REPORTS / "live-view.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
