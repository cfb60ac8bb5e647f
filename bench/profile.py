"""Where a process's time goes: py-spy samples grouped by the component each leaf frame belongs to."""
from __future__ import annotations

import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

# First match wins: (component, prefixes of the frame's file as py-spy prints it).
COMPONENTS = [
    ("relay code (api/, core/, keys/, quotas/, live/, relay_site/)",
     ("api/", "core/", "keys/", "quotas/", "live/", "relay_site/")),
    ("upstream HTTP client (httpx, aiohttp)",
     ("httpx/", "httpx_aiohttp/", "aiohttp/", "yarl/", "multidict/", "httpcore/", "h11/", "anyio/", "sniffio/")),
    ("HTTP server (daphne, twisted)", ("daphne/", "twisted/", "autobahn/", "zope/")),
    ("DRF + adrf", ("rest_framework/", "adrf/")),
    ("Django request handling", ("django/", "asgiref/")),
    ("event loop and sockets (asyncio, selectors, socket)", ("asyncio/", "selectors.py", "socket.py", "ssl.py")),
    ("token counting (tiktoken)", ("tiktoken/", "tiktoken_ext/")),
    ("metrics (prometheus_client)", ("prometheus_client/",)),
    ("logging", ("logging/",)),
    ("JSON", ("json/", "orjson")),
    ("threads and futures", ("threading.py", "concurrent/", "queue.py")),
]


def py_spy() -> str | None:
    found = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    return found if Path(found).exists() else None


def record(pid: int, seconds: float, out: Path, rate: int = 250) -> subprocess.Popen | None:
    """Start sampling `pid` for `seconds` (returns the py-spy process, or None without py-spy)."""
    binary = py_spy()
    if binary is None:
        return None
    argv = [binary, "record", "-r", str(rate), "-d", str(int(seconds)), "-f", "raw", "-o", str(out), "--pid", str(pid)]
    return subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _file_of(frame: str) -> str:
    inside = frame[frame.rfind("(") + 1 : frame.rfind(")")] if "(" in frame else frame
    return inside.rsplit(":", 1)[0]


def _component(path: str) -> str:
    for index, (name, prefixes) in enumerate(COMPONENTS):
        # The relay's own files are printed relative to its directory; "/core/" inside a library
        # path (django/core/...) is not the relay's core package.
        if any(path.startswith(p) or (index and f"/{p}" in path) for p in prefixes):
            return name
    return "other"


def breakdown(raw: Path, top: int = 25) -> dict[str, Any]:
    """Self time by component, the hottest leaf functions, and inclusive time of key callers."""
    by_component: Counter[str] = Counter()
    leaves: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        frames = stack.split(";")
        if not any("daphne" in f or "run_forever" in f for f in frames[:6]):
            continue  # only the event loop's thread (idle pool threads are not work)
        n = int(count)
        total += n
        leaf = frames[-1]
        leaves[leaf] += n
        by_component[_component(_file_of(leaf))] += n
        for frame in set(frames):
            inclusive[frame] += n
    share = {k: v / total for k, v in by_component.most_common()} if total else {}
    return {
        "samples": total,
        "by_component": share,
        "top_leaves": [(f, n / total) for f, n in leaves.most_common(top)] if total else [],
        "top_inclusive": [(f, n / total) for f, n in inclusive.most_common(60) if n / total < 0.97][:top] if total else [],
    }
