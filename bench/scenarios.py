"""The measurements of one benchmark run: each takes targets and processes and returns plain dicts."""
from __future__ import annotations

import asyncio
import math
import time
from dataclasses import dataclass
from typing import Any, Callable

import httpx
import psutil
from prometheus_client.parser import text_string_to_metric_families

from bench import loadgen, stats
from bench.procs import Proc, machine_busy_seconds

P99_LIMIT_MS = 50.0


@dataclass
class Endpoint:
    """A request shape and the process whose CPU it costs."""

    name: str
    target: loadgen.Target
    proc: Proc
    check: Callable[[bytes], bool] | None = None


class Bench:
    def __init__(self, http: httpx.AsyncClient, sim: Proc, helpers: list[Proc]) -> None:
        self.http, self.sim = http, sim
        self.helpers = helpers  # processes whose CPU is ours, not "other load"
        self.me = psutil.Process()

    async def reset_sim(self, **config: Any) -> None:
        await self.http.post(f"{self.sim.url}/_sim/reset")
        if config:
            await self.http.post(f"{self.sim.url}/_sim/config", json=config)

    async def measure(self, ep: Endpoint, *, rate: float | None = None, connections: int | None = None,
                      duration: float, max_requests: int = loadgen.MAX_REQUESTS) -> dict[str, Any]:
        """One run against `ep`, at a constant rate or with N back-to-back connections."""
        await self.reset_sim()
        # A fresh client per run: the hundreds of connections an overloaded run leaves open do not
        # carry over into the next run's measurements.
        async with loadgen.client() as http:
            busy0, cpu0, own0, wall0 = machine_busy_seconds(), ep.proc.cpu_seconds(), self._ours(), time.perf_counter()
            if rate is not None:
                samples, lag = await loadgen.constant_rate(http, ep.target, rate, duration, ep.check)
                elapsed = None
            else:
                samples, elapsed = await loadgen.closed_loop(http, ep.target, connections or 1, duration, max_requests, ep.check)
                lag = 0.0
            wall = time.perf_counter() - wall0
        cpu = ep.proc.cpu_seconds() - cpu0
        ours = self._ours() - own0 + (0.0 if ep.proc in self.helpers else cpu)
        others = (machine_busy_seconds() - busy0) - ours
        summary = stats.summarize(samples, cpu, elapsed)
        summary.update(
            endpoint=ep.name, offered_rps=rate, connections=connections, duration_s=round(wall, 2),
            worst_send_lag_ms=lag * 1000, cpu_cores_used=cpu / wall,
            other_load_cores=max(0.0, others / wall),
        )
        return summary

    def _ours(self) -> float:
        total = sum(p.cpu_seconds() for p in self.helpers)
        times = self.me.cpu_times()
        return total + times.user + times.system

    async def p99_search(self, ep: Endpoint, start: int = 100, step: int = 50, limit: int = 2000,
                         duration: float = 5.0) -> dict[str, Any]:
        """The highest constant rate (in `step`s, then half a step) whose p99 stays under 50 ms.

        A rate that fails is measured once more before it ends the search: the p99 of a 5 s run is
        its fifth-worst request at 100 req/s, so one pause of the machine could decide it alone.
        """
        points: list[dict[str, Any]] = []

        async def attempt(rate: int) -> bool:
            s = await self.measure(ep, rate=rate, duration=duration)
            passed = s["ok"] == s["requests"] and s["latency_ms"]["p99"] < P99_LIMIT_MS
            points.append({"rate": rate, "p50_ms": s["latency_ms"]["p50"], "p99_ms": s["latency_ms"]["p99"],
                           "ok": s["ok"], "requests": s["requests"], "achieved_rps": s["achieved_rps"],
                           "cpu_ms_per_request": s.get("cpu_ms_per_request"),
                           "other_load_cores": s["other_load_cores"], "passed": passed})
            return passed

        async def passes(rate: int) -> bool:
            return await attempt(rate) or await attempt(rate)

        best, rate = 0, start
        while rate <= limit and await passes(rate):
            best, rate = rate, rate + step
        if best and rate <= limit and await passes(best + step // 2):
            best += step // 2
        return {"endpoint": ep.name, "best_rps": best, "points": points}

    async def scrape(self, proc: Proc) -> str:
        return (await self.http.get(f"{proc.url}/metrics")).text

    async def streams(self, ep: Endpoint, count: int = 1000, ramp_seconds: float = 4.0,
                      chunk_delay_ms: int = 1500, hold_seconds: float = 3.0) -> dict[str, Any]:
        """`count` streams open at once: memory per stream, event-loop lag, errors.

        The simulator sends one event per `chunk_delay_ms`, so each stream lasts ~27 events.
        """
        await self.reset_sim(chunk_delay_ms=chunk_delay_ms)
        await asyncio.sleep(0.5)  # let the relay settle before taking its baseline
        baseline_rss = ep.proc.rss()
        lag_start = _lag_buckets(await self.scrape(ep.proc))
        opened = finished = 0

        def first_byte() -> None:
            nonlocal opened
            opened += 1

        def landed(_: object) -> None:
            nonlocal finished
            finished += 1

        timeline: list[tuple[float, int, int]] = []
        t0 = time.perf_counter()

        def mark() -> None:
            timeline.append((round(time.perf_counter() - t0, 3), opened - finished, ep.proc.rss()))

        tasks = []
        streams_http = loadgen.client()
        for i in range(count):
            scheduled = t0 + i * ramp_seconds / count
            await asyncio.sleep(max(0.0, scheduled - time.perf_counter()))
            task = asyncio.create_task(loadgen.one(streams_http, ep.target, scheduled, ep.check, first_byte))
            task.add_done_callback(landed)
            tasks.append(task)
            if i % 50 == 0:
                mark()
        deadline = time.perf_counter() + 90
        while opened < count and finished < count and time.perf_counter() < deadline:
            mark()
            await asyncio.sleep(0.1)
        all_open_at = time.perf_counter() - t0
        concurrent, peak_rss = opened - finished, ep.proc.rss()
        lag_ramp = _lag_buckets(await self.scrape(ep.proc))
        probes = []
        hold_end = time.perf_counter() + hold_seconds
        while time.perf_counter() < hold_end:
            started = time.perf_counter()
            await self.http.get(f"{ep.proc.url}/healthz")
            probes.append((time.perf_counter() - started) * 1000)
            mark()
            await asyncio.sleep(0.2)
        lag_hold = _lag_buckets(await self.scrape(ep.proc))
        samples = list(await asyncio.gather(*tasks))
        await streams_http.aclose()
        mark()
        await self.reset_sim()
        result = stats.summarize(samples)
        result.update(
            endpoint=ep.name, streams=count, opened=opened, concurrent_at_peak=concurrent,
            all_open_after_s=round(all_open_at, 2), baseline_rss=baseline_rss, peak_rss=peak_rss,
            kb_per_stream=(peak_rss - baseline_rss) / 1024 / max(concurrent, 1),
            loop_lag_ramp=_bucket_summary(lag_start, lag_ramp), loop_lag_hold=_bucket_summary(lag_ramp, lag_hold),
            healthz_during_hold_ms=stats.spread(probes), timeline=timeline,
        )
        return result


def _lag_buckets(metrics_text: str) -> dict[float, float]:
    for family in text_string_to_metric_families(metrics_text):
        if family.name == "relay_event_loop_lag_seconds":
            return {float(s.labels["le"]): s.value for s in family.samples if s.name.endswith("_bucket")}
    return {}


def _bucket_summary(before: dict[float, float], after: dict[float, float]) -> dict[str, Any]:
    """Percentiles of the lag observed between two scrapes, to bucket resolution (upper bounds)."""
    delta = {le: after.get(le, 0) - before.get(le, 0) for le in sorted(after)}
    total = delta.get(math.inf, 0)
    out: dict[str, Any] = {"samples": int(total)}
    for p in (50, 99, 100):
        bound = next((le for le, n in delta.items() if total and n >= total * p / 100), math.nan)
        out[f"p{p}_le_ms"] = bound * 1000
    return out
