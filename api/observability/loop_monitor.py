"""Event-loop lag: how late a timer fires, sampled ten times a second in each process.

A loop busy with synchronous work (or simply saturated) delays every request by this much.
"""
from __future__ import annotations

import asyncio

from api.observability import metrics

INTERVAL = 0.1
_watched: set[int] = set()


async def _watch() -> None:
    loop = asyncio.get_running_loop()
    while True:
        expected = loop.time() + INTERVAL
        await asyncio.sleep(INTERVAL)
        metrics.observe_loop_lag(max(0.0, loop.time() - expected))


def ensure_started() -> None:
    """Start watching the running loop (once per loop; called on each request, cheap after the first)."""
    loop = asyncio.get_running_loop()
    if id(loop) not in _watched:
        _watched.add(id(loop))
        task = loop.create_task(_watch())
        task.add_done_callback(lambda _: _watched.discard(id(loop)))
