"""Before and after in one run: the relay of an earlier commit beside this checkout's, same machine, same load.

`python -m bench.side_by_side [--before REV] [--rounds 3]` checks REV out into a temporary git
worktree (the same virtualenv), starts both relays as `make run` does, pinned to CPU 0 one at a time,
with the simulator and the load generator on CPU 1, and measures each with bench/run.py's method
(non-streaming and streamed short chat; one connection, and 64 connections back to back), rounds
alternating which goes first so the machine's drift hits both alike; the median per measure is
reported. A bare forwarder (bench/forwarder_app.py), the empty DRF view (bench/floor_app.py) and,
when Redis answers, this checkout's relay with REDIS_URL set are measured in the same rounds, so each
relay is also seen against them. Every process is first warmed at 64 connections (`--warmup`
seconds): a relay measured cold runs up to a quarter slower for its first seconds. Writes
bench/reports/DATE-side-by-side-vs-REV.md (and .json). Figures from other runs (another day, another machine)
are not comparable: this is what the committed before/after table is for.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import subprocess
import tempfile
from datetime import datetime, timezone
from pathlib import Path
from typing import Any


# As bench/run.py (not imported: it needs the plotting libraries, this bench draws nothing).
CHAT = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Say hi in one word."}]}
AUTH = {"Authorization": "Bearer bench-key-0123456789", "Content-Type": "application/json"}
RELAY_CPU, HELPER_CPU = [0], [1]
REPORTS = Path(__file__).resolve().parent / "reports"
ROOT = REPORTS.parent.parent
KINDS = {"chat": False, "stream": True}  # request shape: streamed or not


def _git(*args: str, cwd: Path = ROOT) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout.strip()


def _relay_at(root: Path, name: str, sim, workdir: Path, **extra: str):
    """A relay served from `root` (a checkout), as `make run` starts it, on its own SQLite file."""
    from bench import procs

    data = workdir / f"{name}-data"
    data.mkdir()
    env = procs.relay_env(sim, data, **extra)
    subprocess.run([procs.PY, "manage.py", "migrate", "--noinput", "-v0"], cwd=root, env=env, check=True)
    port = procs.free_port()
    argv = [procs.PY, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "relay_site.asgi:application"]
    proc = procs.Proc(name, argv, port, env, workdir, RELAY_CPU, ready_path="/healthz")
    proc.root = root  # type: ignore[attr-defined]
    return proc


def _start(proc):
    from bench import procs

    # procs.Proc starts in the benchmark's own checkout; a relay of another commit starts in its own.
    original, procs.ROOT = procs.ROOT, getattr(proc, "root", procs.ROOT)
    try:
        return proc.start()
    finally:
        procs.ROOT = original


async def run(before: str, rounds: int, duration: float, warmup: float) -> dict[str, Any]:
    # Imported here: the report (markdown) is unit-tested without the bench's own requirements.
    import psutil

    from bench import loadgen, procs
    from bench.relay_calls import redis_answers
    from bench.scenarios import Bench, Endpoint

    workdir = Path(tempfile.mkdtemp(prefix="bench-side-by-side-"))
    tree = workdir / "before"
    _git("worktree", "add", "--detach", str(tree), before)
    os.symlink(procs.ROOT / ".venv", tree / ".venv")
    started: list[procs.Proc] = []
    results: dict[str, Any] = {
        "meta": {"started": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
                 "before": _git("rev-parse", "--short", before), "after": _git("rev-parse", "--short", "HEAD"),
                 "dirty": bool(_git("status", "--porcelain", "--untracked-files=no")),
                 "cpu": next((l.split(":", 1)[1].strip() for l in Path("/proc/cpuinfo").read_text().splitlines()
                              if l.startswith("model name")), ""),
                 "rounds": rounds, "duration_s": duration, "warmup_s": warmup,
                 "load_average_at_start": os.getloadavg()},
        "runs": {},
    }
    try:
        sim = procs.simulator(workdir, HELPER_CPU).start()
        started.append(sim)
        psutil.Process().cpu_affinity(HELPER_CPU)
        relays = {"before": _relay_at(tree, "before", sim, workdir), "after": _relay_at(procs.ROOT, "after", sim, workdir)}
        redis_url = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0"
        redis = _relay_at(procs.ROOT, "redis", sim, workdir, REDIS_URL=redis_url) if redis_answers(redis_url) else None
        forwarder = procs.forwarder(workdir, RELAY_CPU, f"{sim.url}/api/chat-with-ai").start()
        floor = procs.floor(workdir, RELAY_CPU).start()
        started += [forwarder, floor]
        for relay in [*relays.values(), *([redis] if redis else [])]:
            started.append(_start(relay))
        async with loadgen.client() as http:
            bench = Bench(http, sim, [sim])
            upstream_body = await _upstream_body(http, sim, relays["after"])
            eps: dict[str, Endpoint] = {}
            for name, relay in relays.items():
                for kind, stream in KINDS.items():
                    body = json.dumps({**CHAT, "stream": stream}).encode()
                    target = loadgen.Target(f"{relay.url}/v1/chat/completions", body, AUTH, stream=stream)
                    eps[f"{name} {kind}"] = Endpoint(f"{name} {kind}", target, relay)
            upstream = {"API-KEY": AUTH["Authorization"][7:], "Content-Type": "application/json"}
            eps["forwarder chat"] = Endpoint("forwarder chat", loadgen.Target(f"{forwarder.url}/", upstream_body, upstream), forwarder)
            eps["floor-drf chat"] = Endpoint("floor-drf chat", loadgen.Target(f"{floor.url}/floor/drf", json.dumps(CHAT).encode(), AUTH), floor)
            if redis:  # the after relay's code with its cache, limits and Channels layer in Redis
                chat = loadgen.Target(f"{redis.url}/v1/chat/completions", json.dumps(CHAT).encode(), AUTH)
                eps["redis chat"] = Endpoint("redis chat", chat, redis)
            # Warm-up: imports, the model list, connection pools, and the interpreter's own warming
            # (specialised bytecode, allocator arenas), which takes seconds of load, not a few calls.
            for ep in eps.values():
                await bench.measure(ep, connections=64, duration=warmup)
            names = list(eps)
            for round_no in range(rounds):
                for name in names if round_no % 2 == 0 else list(reversed(names)):
                    for connections in (1, 64):
                        s = await bench.measure(eps[name], connections=connections, duration=duration)
                        results["runs"].setdefault(f"{name} @{connections}", []).append(
                            {"cpu_ms": s["cpu_ms_per_request"], "rps": s["achieved_rps"],
                             "errors": s["requests"] - s["ok"], "other_load": s["other_load_cores"]})
    finally:
        for proc in reversed(started):
            proc.stop()
        _git("worktree", "remove", "--force", str(tree))
        shutil.rmtree(workdir, ignore_errors=True)  # the processes' logs and SQLite files
    results["meta"]["load_average_at_end"] = os.getloadavg()
    results["median"] = {key: {"cpu_ms": statistics.median(r["cpu_ms"] for r in runs),
                               "rps": statistics.median(r["rps"] for r in runs),
                               "errors": sum(r["errors"] for r in runs),
                               "other_load": statistics.median(r["other_load"] for r in runs)}
                         for key, runs in results["runs"].items()}
    return results


async def _upstream_body(http, sim, relay) -> bytes:
    """What the relay sends 1min.ai for the benchmark prompt: the forwarder sends it as is."""
    await http.post(f"{sim.url}/_sim/reset")
    (await http.post(f"{relay.url}/v1/chat/completions", json=CHAT, headers=AUTH)).raise_for_status()
    recorded = (await http.get(f"{sim.url}/_sim/requests", params={"path": "/api/chat-with-ai"})).json()
    return json.dumps(recorded["requests"][-1]["json"]).encode()


def markdown(results: dict[str, Any]) -> str:
    meta, med = results["meta"], results["median"]

    def row(label: str, before_key: str, after_key: str, field: str, digits: int) -> str:
        b, a = med.get(before_key, {}).get(field), med.get(after_key, {}).get(field)
        if b is None or a is None:
            return f"| {label} | – | – | – |"
        change = (a - b) / b * 100 if b else float("nan")
        return f"| {label} | {b:.{digits}f} | {a:.{digits}f} | {change:+.0f}% |"

    lines = [
        "# Before and after, side by side in one run",
        "",
        f"`python -m bench.side_by_side --before {meta['before']}` on {meta['started']}: the relay of "
        f"commit {meta['before']} (*before*) and of {meta['after']}{' (with uncommitted changes)' if meta['dirty'] else ''} "
        f"(*after*), each alone on CPU 0 of this 2-core machine ({meta['cpu']}), the simulator and the "
        f"load generator on CPU 1; each process first warmed {meta.get('warmup_s', 2):g} s, then "
        f"{meta['rounds']} rounds of {meta['duration_s']:g} s per measure, alternating "
        "which relay goes first; medians. Short chat (`gpt-4o-mini`, one line), as bench/run.py. Load average "
        f"at start {meta['load_average_at_start'][0]:.2f}, at end {meta['load_average_at_end'][0]:.2f}.",
        "",
        "| Measure | before | after | change |",
        "| --- | --- | --- | --- |",
        row("Throughput, 64 connections (req/s)", "before chat @64", "after chat @64", "rps", 0),
        row("CPU per call, saturated (ms)", "before chat @64", "after chat @64", "cpu_ms", 2),
        row("CPU per call, one connection (ms)", "before chat @1", "after chat @1", "cpu_ms", 2),
        row("Streamed chat: throughput, 64 connections (req/s)", "before stream @64", "after stream @64", "rps", 0),
        row("Streamed chat: CPU per call, saturated (ms)", "before stream @64", "after stream @64", "cpu_ms", 2),
        row("Streamed chat: CPU per call, one connection (ms)", "before stream @1", "after stream @1", "cpu_ms", 2),
        "",
        "The same rounds' references (bench/forwarder_app.py forwards the relay's upstream request through the "
        "relay's transport with nothing of Django; bench/floor_app.py is an empty async DRF view):",
        "",
        "| Process | CPU per call, saturated (ms) | req/s, 64 connections | CPU per call, one connection (ms) |",
        "| --- | --- | --- | --- |",
    ]
    for name in ("before chat", "after chat", "redis chat", "forwarder chat", "floor-drf chat"):
        sat, one = med.get(f"{name} @64", {}), med.get(f"{name} @1", {})
        if sat:
            lines.append(f"| {name} | {sat['cpu_ms']:.2f} | {sat['rps']:.0f} | {one.get('cpu_ms', float('nan')):.2f} |")
    fwd = med.get("forwarder chat @64", {}).get("cpu_ms")
    after = med.get("after chat @64", {}).get("cpu_ms")
    if fwd and after:
        lines += ["", f"After ÷ forwarder, CPU per call saturated: {after / fwd:.2f}×; the empty DRF view alone "
                  f"is {med['floor-drf chat @64']['cpu_ms'] / fwd:.2f}× the forwarder."]
    redis = med.get("redis chat @64", {}).get("cpu_ms")
    if after and redis:
        lines += ["", f"The after relay with REDIS_URL set (cache, limits and Channels layer in Redis): "
                  f"{redis:.2f} ms CPU per call saturated, {redis - after:+.2f} ms over the embedded defaults."]
    errors = sum(v["errors"] for v in med.values())
    lines += ["", f"Errors over all runs: {errors}."]
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", default="c1aff6d", help="the earlier commit (default: the state of 2026-12-05)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=float, default=8.0, help="seconds per measure")
    parser.add_argument("--warmup", type=float, default=10.0, help="seconds of load per process before the rounds")
    parser.add_argument("--out", type=Path, default=None, help="default: bench/reports/DATE-side-by-side-vs-REV.md")
    args = parser.parse_args()
    results = asyncio.run(run(args.before, args.rounds, args.duration, args.warmup))
    text = markdown(results)
    print(text)
    if args.out is None:
        args.out = REPORTS / f"{datetime.now(timezone.utc):%Y-%m-%d}-side-by-side-vs-{results['meta']['before']}.md"
    args.out.write_text(text)
    args.out.with_suffix(".json").write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
