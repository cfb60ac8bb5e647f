"""`make bench` (`python -m bench.run`): the overhead benchmark, its JSON results, report and plots.

Processes: the 1min.ai simulator (answering instantly, in its own process), the relay (one daphne
process, started as `make run` starts it), the floor app (bench/floor_app.py), the bare forwarder
(bench/forwarder_app.py), the relay again over httpx and with Redis, and, for the whole machine, the
relay under the WEB_CONCURRENCY=2 launcher. The one-process servers are pinned to CPU 0, the
simulator and this load generator to CPU 1, so one daphne process has one core to itself.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import shutil
import subprocess
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import psutil

from bench import loadgen, procs, profile, report
from bench.relay_calls import redis_answers
from bench.scenarios import Bench, Endpoint

CHAT = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Say hi in one word."}]}
AUTH = {"Authorization": "Bearer bench-key-0123456789", "Content-Type": "application/json"}
RELAY_CPU, HELPER_CPU = [0], [1]
NO_REDIS = "no Redis reachable (REDIS_URL or 127.0.0.1:6379)"


def _is_chat(body: bytes) -> bool:
    return b'"chat.completion"' in body


def _is_relay_stream(body: bytes) -> bool:
    return body.endswith(b"data: [DONE]\n\n")


def _is_upstream_stream(body: bytes) -> bool:
    return b"event: done" in body


def _endpoints(sim: procs.Proc, relay: procs.Proc, floor: procs.Proc, forwarder: procs.Proc,
               upstream_body: bytes) -> dict[str, Endpoint]:
    body = json.dumps(CHAT).encode()
    stream_body = json.dumps({**CHAT, "stream": True}).encode()
    upstream = {"API-KEY": AUTH["Authorization"][7:], "Content-Type": "application/json"}
    chat_url = f"{sim.url}/api/chat-with-ai"
    T = loadgen.Target
    return {
        "direct": Endpoint("direct", T(chat_url, upstream_body, upstream), sim, _is_chat_record),
        "forwarder": Endpoint("forwarder", T(f"{forwarder.url}/", upstream_body, upstream), forwarder, _is_chat_record),
        "relay": Endpoint("relay", T(f"{relay.url}/v1/chat/completions", body, AUTH), relay, _is_chat),
        "floor-drf": Endpoint("floor-drf", T(f"{floor.url}/floor/drf", body, AUTH), floor),
        "floor-django": Endpoint("floor-django", T(f"{floor.url}/floor/django", body, AUTH), floor),
        "direct-stream": Endpoint("direct-stream", T(chat_url + "?isStreaming=true", upstream_body, upstream, stream=True), sim, _is_upstream_stream),
        "relay-stream": Endpoint("relay-stream", T(f"{relay.url}/v1/chat/completions", stream_body, AUTH, stream=True), relay, _is_relay_stream),
    }


def _is_chat_record(body: bytes) -> bool:
    return b'"aiRecord"' in body


async def _upstream_body(http: httpx.AsyncClient, sim: procs.Proc, relay: procs.Proc) -> bytes:
    """Exactly what the relay sends 1min.ai for the benchmark prompt, for the direct runs."""
    await http.post(f"{sim.url}/_sim/reset")
    response = await http.post(f"{relay.url}/v1/chat/completions", json=CHAT, headers=AUTH)
    response.raise_for_status()
    recorded = (await http.get(f"{sim.url}/_sim/requests", params={"path": "/api/chat-with-ai"})).json()
    return json.dumps(recorded["requests"][-1]["json"]).encode()


def _meta(args: argparse.Namespace) -> dict[str, Any]:
    def git(*a: str) -> str:
        return subprocess.run(["git", *a], cwd=procs.ROOT, capture_output=True, text=True).stdout.strip()

    import daphne
    import django

    return {
        "date": date.today().isoformat(), "started": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "commit": git("rev-parse", "--short", "HEAD") + (" (with uncommitted changes)" if git("status", "--porcelain", "--untracked-files=no") else ""),
        "cpu": _cpu_model(), "cores": psutil.cpu_count(), "python": platform.python_version(),
        "django": django.__version__, "daphne": daphne.__version__, "httpx": httpx.__version__,
        "load_average_at_start": os.getloadavg(), "quick": args.quick,
        "command": "make bench" if not args.quick else "python -m bench.run --quick",
    }


def _cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor()


def _redis_url() -> str | None:
    url = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0"
    return url if redis_answers(url) else None


def _wait_quiet(limit: float) -> float:
    """Wait up to `limit` s for the 1-minute load average to fall under 1 (other work on the box)."""
    deadline = time.monotonic() + limit
    while os.getloadavg()[0] >= 1.0 and time.monotonic() < deadline:
        time.sleep(5)
    return os.getloadavg()[0]


async def _relay_redis(bench: Bench, env: dict[str, str], workdir: Path, started: list[procs.Proc],
                       d: float) -> dict[str, Any]:
    """The relay with Redis, alone on CPU 0: one connection and saturated, as the embedded relay."""
    proc = procs.relay("relay-redis", env, workdir, RELAY_CPU).start()
    started.append(proc)
    ep = Endpoint("relay-redis", loadgen.Target(f"{proc.url}/v1/chat/completions", json.dumps(CHAT).encode(), AUTH), proc, _is_chat)
    await bench.measure(ep, connections=4, duration=2 * d)  # imports, pools, the model list
    measured = {
        "one_connection": await bench.measure(ep, connections=1, duration=8 * d),
        "saturation": await bench.measure(ep, connections=64, duration=10 * d),
    }
    proc.stop()
    return measured


async def run(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    d = 0.3 if args.quick else 1.0  # duration scale
    results: dict[str, Any] = {"meta": _meta(args)}
    sim = procs.simulator(workdir, HELPER_CPU).start()
    env = procs.relay_env(sim, workdir)
    procs.migrate(env)
    relay = procs.relay("relay", env, workdir, RELAY_CPU).start()
    floor = procs.floor(workdir, RELAY_CPU).start()
    forwarder = procs.forwarder(workdir, RELAY_CPU, f"{sim.url}/api/chat-with-ai").start()
    psutil.Process().cpu_affinity(HELPER_CPU)
    started = [sim, relay, floor, forwarder]
    try:
        async with loadgen.client() as http:
            bench = Bench(http, sim, [sim])
            eps = _endpoints(sim, relay, floor, forwarder, await _upstream_body(http, sim, relay))
            for ep in eps.values():  # warm-up: imports, the model list, connection pools
                await bench.measure(ep, connections=4, duration=2 * d)
            results["memory_idle_rss"] = {"relay": relay.rss(), "floor": floor.rss()}

            one = results["one_connection"] = {}
            for name in ("direct", "forwarder", "relay", "floor-drf", "floor-django", "direct-stream", "relay-stream"):
                one[name] = await bench.measure(eps[name], connections=1, duration=8 * d)

            rates = results["constant_rate"] = {}
            for rate in (50, 100, 200, 500):
                names = ["direct", "relay", "floor-drf"] + (["direct-stream", "relay-stream"] if rate != 100 else [])
                for name in names:
                    rates[f"{name}@{rate}"] = await bench.measure(eps[name], rate=rate, duration=10 * d)

            sat = results["saturation"] = {}
            for name in ("relay", "floor-drf", "floor-django", "direct", "forwarder", "relay-stream"):
                sat[name] = await bench.measure(eps[name], connections=64, duration=10 * d)

            # The same relay over httpx's own transport (UPSTREAM_TRANSPORT=httpx): what the aiohttp one saves.
            via_httpx = procs.relay("relay-httpx", {**env, "UPSTREAM_TRANSPORT": "httpx"}, workdir, RELAY_CPU).start()
            started.append(via_httpx)
            ep_httpx = Endpoint("relay-httpx", loadgen.Target(f"{via_httpx.url}/v1/chat/completions", json.dumps(CHAT).encode(), AUTH), via_httpx, _is_chat)
            await bench.measure(ep_httpx, connections=4, duration=2 * d)
            results["transport_httpx"] = {
                "one_connection": await bench.measure(ep_httpx, connections=1, duration=8 * d),
                "saturation": await bench.measure(ep_httpx, connections=64, duration=10 * d),
            }
            via_httpx.stop()

            # The same relay with REDIS_URL set (cache, limits and Channels layer in Redis): what the
            # Redis configuration costs per call beyond the embedded one, in the same run.
            redis_url = _redis_url()
            if redis_url:
                results["relay_redis"] = await _relay_redis(bench, {**env, "REDIS_URL": redis_url}, workdir, started, d)
            else:
                results["relay_redis"] = {"skipped": NO_REDIS}

            raw = workdir / "relay-profile.txt"
            spy = profile.record(relay.proc.pid, max(2, 8 * d), raw)
            if spy is not None:
                profiled = await bench.measure(eps["relay"], connections=64, duration=max(2, 8 * d) + 1)
                spy.wait(timeout=60)
                results["profile"] = {
                    **profile.breakdown(raw), "cpu_ms_per_request": profiled["cpu_ms_per_request"],
                    "achieved_rps": profiled["achieved_rps"],
                }

            search = results["p99_search"] = {}
            for name in ("relay", "floor-drf", "relay-stream"):
                search[name] = await bench.p99_search(eps[name], duration=5 * d)

            # A fresh relay for the streams, so earlier load's heap does not hide what streams cost.
            fresh = procs.relay("relay-streams", env, workdir, RELAY_CPU).start()
            started.append(fresh)
            stream_body = json.dumps({**CHAT, "stream": True}).encode()
            ep_streams = Endpoint("relay-stream", loadgen.Target(f"{fresh.url}/v1/chat/completions", stream_body, AUTH, stream=True), fresh, _is_relay_stream)
            await bench.measure(ep_streams, connections=20, duration=2 * d)  # imports, pools, model list
            results["streams"] = await bench.streams(ep_streams, count=args.streams)
            fresh.stop()

            if redis_url:
                env2 = procs.relay_env(sim, workdir, REDIS_URL=redis_url)
                machine = procs.relay_workers("relay-2-workers", env2, 2, workdir).start()
                started.append(machine)
                psutil.Process().cpu_affinity(list(range(psutil.cpu_count())))
                psutil.Process(sim.proc.pid).cpu_affinity(list(range(psutil.cpu_count())))
                body = json.dumps(CHAT).encode()
                ep2 = Endpoint("relay-2-workers", loadgen.Target(f"{machine.url}/v1/chat/completions", body, AUTH), machine, _is_chat)
                await bench.measure(ep2, connections=8, duration=2 * d)
                results["machine"] = {
                    "saturation": await bench.measure(ep2, connections=64, duration=10 * d),
                    "p99_search": await bench.p99_search(ep2, duration=5 * d),
                }
            else:
                results["machine"] = {"skipped": NO_REDIS}
    finally:
        for proc in reversed(started):
            proc.stop()
    results["meta"]["load_average_at_end"] = os.getloadavg()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a short smoke run (figures not for the report)")
    parser.add_argument("--streams", type=int, default=1000)
    parser.add_argument("--out", type=Path, default=procs.ROOT / "bench" / "reports")
    parser.add_argument("--wait-quiet", type=float, default=300, help="seconds to wait for an idle machine")
    parser.add_argument("--from-json", type=Path, help="only rebuild the report from saved results")
    args = parser.parse_args()
    if args.from_json:
        results = json.loads(args.from_json.read_text())
    else:
        load = _wait_quiet(args.wait_quiet)
        print(f"bench: 1-minute load average {load:.2f} at start", flush=True)
        workdir = Path(tempfile.mkdtemp(prefix="relay-bench-"))
        try:
            results = asyncio.run(run(args, workdir))
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
    args.out.mkdir(parents=True, exist_ok=True)
    stem = args.out / f"{results['meta']['date']}-overhead{'-quick' if results['meta']['quick'] else ''}"
    stem.with_suffix(".json").write_text(json.dumps(results, indent=1, default=str))
    report.write(results, stem)
    print(f"bench: wrote {stem}.md, {stem}.json and plots", flush=True)


if __name__ == "__main__":
    main()
