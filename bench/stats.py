"""Summaries of load-generator samples: percentiles in milliseconds, error counts, achieved rate."""
from __future__ import annotations

import math
from collections import Counter
from typing import Any, Iterable

from bench.loadgen import Sample

PERCENTILES = (50, 95, 99)


def percentile(values: list[float], p: float) -> float:
    """Linear interpolation between closest ranks (numpy's default); NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = (len(ordered) - 1) * p / 100
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def spread(values: Iterable[float]) -> dict[str, float]:
    values = [v for v in values if not math.isnan(v)]
    out = {f"p{p}": percentile(values, p) for p in PERCENTILES}
    out["max"] = max(values) if values else math.nan
    out["mean"] = sum(values) / len(values) if values else math.nan
    return out


def summarize(samples: list[Sample], cpu_seconds: float | None = None, elapsed: float | None = None) -> dict[str, Any]:
    ok = [s for s in samples if s.ok]
    errors = Counter(s.error or f"HTTP {s.status}" for s in samples if not s.ok)
    if elapsed is None:
        sent = [s for s in samples if not math.isnan(s.scheduled)]
        first = min((s.scheduled for s in sent), default=0.0)
        last = max((s.done for s in sent if not math.isnan(s.done)), default=first)
        elapsed = max(last - first, 1e-9)
    summary: dict[str, Any] = {
        "requests": len(samples),
        "ok": len(ok),
        "errors": dict(errors),
        "achieved_rps": len(ok) / elapsed if elapsed else math.nan,
        "latency_ms": spread(s.latency * 1000 for s in ok),
        "ttfb_ms": spread(s.ttfb * 1000 for s in ok),
        "relay_overhead_header_ms": spread(s.overhead_ms for s in ok),
    }
    if cpu_seconds is not None and samples:
        summary["cpu_ms_per_request"] = cpu_seconds * 1000 / len(samples)
    return summary


def difference(relay: dict[str, float], direct: dict[str, float]) -> dict[str, float]:
    """Per-percentile difference (relay pXX minus direct pXX), the added latency at that percentile."""
    return {k: relay[k] - direct[k] for k in relay if k in direct and k != "mean"} | {
        "mean": relay["mean"] - direct["mean"]
    }
