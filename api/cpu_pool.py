"""Long pure-Python CPU work (audio conversion) run in worker processes, so it never holds this
process's GIL: a thread would still slow every request the event loop serves while it runs."""
from __future__ import annotations

import asyncio
import multiprocessing
import threading
from concurrent.futures import ProcessPoolExecutor
from typing import Any, Callable, TypeVar

from django.conf import settings

T = TypeVar("T")
_lock = threading.Lock()
_pool: ProcessPoolExecutor | None = None


def _executor() -> ProcessPoolExecutor | None:
    """The shared pool (started on first use), or None when CPU_WORKER_PROCESSES is 0 (a thread)."""
    global _pool
    if settings.CPU_WORKER_PROCESSES == 0:
        return None
    with _lock:
        if _pool is None:
            # spawn, not fork: the server process has threads (Twisted, Django's executor) to not copy.
            _pool = ProcessPoolExecutor(settings.CPU_WORKER_PROCESSES, mp_context=multiprocessing.get_context("spawn"))
    return _pool


async def run_cpu(function: Callable[..., T], *args: Any) -> T:
    """`function(*args)` in a worker process (a module-level function with picklable arguments)."""
    return await asyncio.get_running_loop().run_in_executor(_executor(), function, *args)


def shutdown() -> None:
    global _pool
    with _lock:
        if _pool is not None:
            _pool.shutdown(wait=False, cancel_futures=True)
            _pool = None
