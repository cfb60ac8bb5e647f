"""The report's PNG plots (matplotlib, no display needed)."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

P99_LIMIT_MS = 50


def draw(results: dict[str, Any], stem: Path) -> dict[str, Path]:
    paths = {
        "overhead": stem.with_name(stem.name + "-overhead.png"),
        "streaming": stem.with_name(stem.name + "-streaming.png"),
        "search": stem.with_name(stem.name + "-p99-search.png"),
        "streams": stem.with_name(stem.name + "-streams.png"),
    }
    _overhead(results["constant_rate"], paths["overhead"])
    _streaming(results["constant_rate"], paths["streaming"])
    _search(results, paths["search"])
    _streams(results["streams"], paths["streams"])
    return paths


def _added(rates: dict[str, Any], relay: str, direct: str, rate: int, key: str, p: str) -> float:
    return rates[f"{relay}@{rate}"][key][p] - rates[f"{direct}@{rate}"][key][p]


def _overhead(rates: dict[str, Any], path: Path) -> None:
    offered = [50, 100, 200, 500]
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
    for p, style in (("p50", "o-"), ("p95", "s--"), ("p99", "^:")):
        left.plot(offered, [_added(rates, "relay", "direct", r, "latency_ms", p) for r in offered], style, label=f"relay added {p}")
        left.plot(offered, [rates[f"floor-drf@{r}"]["latency_ms"][p] for r in offered], style, alpha=0.45, label=f"floor (whole) {p}")
    left.set(xlabel="offered load (req/s, constant rate)", ylabel="ms", title="Added latency vs the floor, non-streaming", yscale="log")
    left.legend(fontsize=7)
    left.grid(True, which="both", alpha=0.3)
    right.bar([str(r) for r in offered], [rates[f"relay@{r}"].get("cpu_ms_per_request", 0) for r in offered], width=0.4, label="relay", align="edge")
    right.bar([str(r) for r in offered], [rates[f"floor-drf@{r}"].get("cpu_ms_per_request", 0) for r in offered], width=-0.4, label="floor (empty DRF view)", align="edge")
    right.axhline(2.5, color="red", linestyle="--", linewidth=1, label="target 2.5 ms")
    right.set(xlabel="offered load (req/s)", ylabel="CPU ms per request", title="CPU per request")
    right.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _streaming(rates: dict[str, Any], path: Path) -> None:
    offered = [50, 200, 500]
    fig, ax = plt.subplots(figsize=(7, 4.2))
    for key, label, style in (("ttfb_ms", "first byte", "o-"), ("latency_ms", "last byte", "s--")):
        for p in ("p50", "p99"):
            ax.plot(offered, [_added(rates, "relay-stream", "direct-stream", r, key, p) for r in offered], style, label=f"added {label} {p}")
    ax.set(xlabel="offered load (streams started per second)", ylabel="ms", title="Added latency, streaming", yscale="log")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _search(results: dict[str, Any], path: Path) -> None:
    fig, ax = plt.subplots(figsize=(7, 4.2))
    series = dict(results["p99_search"])
    if "p99_search" in results.get("machine", {}):
        series["relay, 2 workers"] = results["machine"]["p99_search"]
    for name, s in series.items():
        points = sorted(s["points"], key=lambda p: p["rate"])
        ax.plot([p["rate"] for p in points], [p["p99_ms"] for p in points], "o-", label=f"{name} (best {s['best_rps']})")
    ax.axhline(P99_LIMIT_MS, color="red", linestyle="--", linewidth=1, label="50 ms")
    ax.set(xlabel="offered load (req/s, constant rate)", ylabel="p99 latency (ms)", title="p99 latency as load rises", yscale="log")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _streams(s: dict[str, Any], path: Path) -> None:
    t = [p[0] for p in s["timeline"]]
    fig, ax = plt.subplots(figsize=(7, 4.2))
    ax.plot(t, [p[1] for p in s["timeline"]], color="tab:blue", label="streams open")
    ax.set(xlabel="seconds", ylabel="streams open at once")
    mem = ax.twinx()
    mem.plot(t, [p[2] / 2**20 for p in s["timeline"]], color="tab:orange", label="relay RSS")
    mem.set_ylabel("relay RSS (MiB)")
    ax.set_title(f"{s['streams']:,} concurrent streams: {s['kb_per_stream']:.1f} KB each")
    fig.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
