"""Issue 16 item 5's targets: this run's figures beside the 2026-12-05 report's, and whether each is met."""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

# "Today's saturated throughput" when the issue was written: the 2026-11-25 report's 729.8 req/s.
BASELINE_RPS = 730
RPS_SHARE = 0.9
FORWARDER_FACTOR = 2.0
REDIS_EXTRA_MS = 0.3
STREAM_CPU_MS = 2.2
# The last report before the work on item 5: its figures are the "before" column.
BEFORE = Path(__file__).resolve().parent / "reports" / "2026-12-05-overhead.json"
NOT_MEASURED = "not measured in this run"

Figures = dict[str, Any]
Judged = tuple[str | None, float | None]  # the figure as shown (None: not measured) and the judged value
# A judge takes the figures and the words for "not measured" in its column.
Judge = Callable[[Figures, str], Judged]


@dataclass(frozen=True)
class Row:
    target: str
    wanted: str
    before: str
    now: str
    met: bool | None  # None when this run did not measure it


def _cpu(block: dict[str, Any] | None, name: str) -> float | None:
    entry = (block or {}).get(name)
    return entry.get("cpu_ms_per_request") if entry else None


def figures(results: dict[str, Any]) -> Figures:
    """The figures the targets judge; None for each one the results lack (a run from before them)."""
    one, sat = results.get("one_connection", {}), results.get("saturation", {})
    redis = results.get("relay_redis") or {}
    return {
        "rps": (sat.get("relay") or {}).get("achieved_rps"),
        "relay_saturated": _cpu(sat, "relay"), "relay_one": _cpu(one, "relay"),
        "forwarder_saturated": _cpu(sat, "forwarder"), "forwarder_one": _cpu(one, "forwarder"),
        "redis_saturated": _cpu(redis, "saturation"), "redis_skipped": redis.get("skipped"),
        "stream_saturated": _cpu(sat, "relay-stream"), "stream_one": _cpu(one, "relay-stream"),
    }


def _throughput(x: Figures, missing: str) -> Judged:
    rps = x["rps"]
    if rps is None:
        return None, None
    return f"{rps:.0f} req/s ({rps / BASELINE_RPS:.0%} of {BASELINE_RPS})", rps


def _vs_forwarder(where: str) -> Judge:
    def judge(x: Figures, missing: str) -> Judged:
        relay, forwarder = x[f"relay_{where}"], x[f"forwarder_{where}"]
        if relay is None:
            return None, None
        if forwarder is None:
            return f"forwarder {missing} (relay {relay:.2f} ms)", None
        return f"{relay:.2f} / {forwarder:.2f} ms = {relay / forwarder:.2f}×", relay / forwarder
    return judge


def _redis_extra(x: Figures, missing: str) -> Judged:
    redis, embedded = x["redis_saturated"], x["relay_saturated"]
    if x["redis_skipped"]:
        return f"{missing}: {x['redis_skipped']}", None
    if redis is None or embedded is None:
        return None, None
    return f"{redis:.2f} − {embedded:.2f} = {redis - embedded:+.2f} ms", redis - embedded


def _stream(where: str) -> Judge:
    def judge(x: Figures, missing: str) -> Judged:
        cpu = x[f"stream_{where}"]
        return (None, None) if cpu is None else (f"{cpu:.2f} ms", cpu)
    return judge


TARGETS: list[tuple[str, str, Judge, Callable[[float], bool]]] = [
    ("Throughput, one process, embedded defaults (64 connections)",
     f"≥ {RPS_SHARE * BASELINE_RPS:.0f} req/s ({RPS_SHARE:.0%} of {BASELINE_RPS})",
     _throughput, lambda rps: rps >= RPS_SHARE * BASELINE_RPS),
    ("Relay CPU per call ÷ bare forwarder's, saturated", f"≤ {FORWARDER_FACTOR:.0f}×",
     _vs_forwarder("saturated"), lambda r: r <= FORWARDER_FACTOR),
    ("Relay CPU per call ÷ bare forwarder's, one connection", f"≤ {FORWARDER_FACTOR:.0f}×",
     _vs_forwarder("one"), lambda r: r <= FORWARDER_FACTOR),
    ("Redis minus embedded CPU per request, saturated", f"≤ {REDIS_EXTRA_MS} ms",
     _redis_extra, lambda extra: extra <= REDIS_EXTRA_MS),
    ("Streamed short chat CPU per call, saturated", f"≤ {STREAM_CPU_MS} ms",
     _stream("saturated"), lambda cpu: cpu <= STREAM_CPU_MS),
    ("Streamed short chat CPU per call, one connection", f"≤ {STREAM_CPU_MS} ms",
     _stream("one"), lambda cpu: cpu <= STREAM_CPU_MS),
]


def rows(results: dict[str, Any], before: dict[str, Any] | None) -> list[Row]:
    """One row per target: the before figure (if there is a report), this run's, and the verdict."""
    now, then = figures(results), figures(before) if before is not None else None
    out = []
    for target, wanted, judge, passes in TARGETS:
        shown, value = judge(now, NOT_MEASURED)
        shown_before = "no report" if then is None else judge(then, "not measured")[0] or "not measured"
        out.append(Row(target, wanted, shown_before, shown or NOT_MEASURED,
                       None if value is None else passes(value)))
    return out


def load_before(path: Path = BEFORE) -> dict[str, Any] | None:
    return json.loads(path.read_text()) if path.exists() else None


def section(results: dict[str, Any], before: dict[str, Any] | None, add: Callable[[str], None]) -> None:
    label = before["meta"]["date"] if before else "before"
    add("## Issue 16 item 5: before and after\n")
    add(f"The targets of issue 16 item 5, this run beside the {label} report ({BEFORE.name}, before the work "
        "on them). *Forwarder*: a bare ASGI app under daphne with nothing of Django (bench/forwarder_app.py) "
        "that forwards the direct runs' chat call to the simulator through the relay's upstream transport, "
        "pinned to CPU 0 as the relay is. *Redis*: the same relay with `REDIS_URL` set (its cache, limits "
        f"and Channels layer in Redis), alone on CPU 0. Throughput is judged against the 2026-11-25 report's "
        f"{BASELINE_RPS} req/s.\n")
    add(f"| Target | Wanted | {label} | This run | Met |\n| --- | --- | --- | --- | --- |")
    for row in rows(results, before):
        met = "–" if row.met is None else "yes" if row.met else "**no**"
        add(f"| {row.target} | {row.wanted} | {row.before} | {row.now} | {met} |")
    add("")
    then_cpu, now_cpu = (before or {}).get("meta", {}).get("cpu"), results["meta"].get("cpu")
    if then_cpu and now_cpu and then_cpu != now_cpu:
        # Absolute figures of two machines say nothing about the code: the same run must hold both.
        add(f"The {label} report ran on another machine ({then_cpu}; this run: {now_cpu}), so its column "
            "and the absolute targets (calibrated there) do not compare with this run; "
            "`python -m bench.side_by_side` measures an earlier commit and this one in one run "
            "(bench/reports/DATE-side-by-side-vs-REV.md).\n")
