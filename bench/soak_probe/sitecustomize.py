"""The latency soak's optional probe (`--probe`), loaded into the relay through PYTHONPATH.

With SOAK_PROBE_LOG set it appends, per line, `start seconds what` (CLOCK_MONOTONIC, shared by the
processes of one machine) for each garbage collection over 5 ms and each event-loop callback over
10 ms (with the task it stepped and that step's CPU time), so the soak can name what ran in the
relay during a slow request. Without SOAK_PROBE_LOG it does nothing. Cost: a clock read or two per
loop callback and per collection.
"""
import os

_path = os.environ.get("SOAK_PROBE_LOG")
if _path:
    import asyncio.events
    import gc
    import threading
    import time

    _log = open(_path, "a", buffering=1)
    _clock, _cpu = time.perf_counter, time.thread_time
    _gc_started = threading.local()

    def _on_gc(phase, info):
        if phase == "start":
            _gc_started.at = _clock()
            return
        started = getattr(_gc_started, "at", None)
        if started is not None and _clock() - started > 0.005:
            thread = threading.current_thread().name
            where = "" if thread == "MainThread" else f" on thread {thread}"
            _log.write(f"{started:.6f} {_clock() - started:.6f} gen-{info['generation']} GC "
                       f"({info['collected']} collected){where}\n")

    gc.callbacks.append(_on_gc)

    def _describe(handle):
        task = getattr(handle._callback, "__self__", None)
        if isinstance(task, asyncio.Task):
            return f"task {task.get_coro().__qualname__}"
        return getattr(handle._callback, "__qualname__", type(handle._callback).__name__)

    _run = asyncio.events.Handle._run

    def _timed_run(self):
        started, cpu = _clock(), _cpu()
        _run(self)
        took = _clock() - started
        if took > 0.010:
            _log.write(f"{started:.6f} {took:.6f} loop callback ({_describe(self)}, "
                       f"{(_cpu() - cpu) * 1000:.0f} ms CPU)\n")

    asyncio.events.Handle._run = _timed_run
