"""The current request's id and timings, reachable from any code running for that request.

The ASGI layer (relay_site/tracing.py) opens a Trace per request; the upstream client adds the time
it spends waiting on 1min.ai and sends the id along, so services never pass either around.
"""
from __future__ import annotations

import random
import re
import time
from contextvars import ContextVar
from typing import Any

# Letters, digits and a few separators, at most 128 characters: anything else a client sends as
# x-request-id is replaced, so a hostile value never reaches logs or the upstream.
_SANE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:\-]{0,127}")


class Trace:
    """One request: its id, when the relay got it, and how long it waited on 1min.ai."""

    __slots__ = ("request_id", "started", "upstream_seconds", "call", "_waits", "_waiting_since")

    def __init__(self, request_id: str, started: float | None = None) -> None:
        self.request_id = request_id
        self.started = time.perf_counter() if started is None else started
        self.upstream_seconds = 0.0
        self.call: Any = None  # the view's CallContext, for the access log line
        self._waits = 0
        self._waiting_since = 0.0

    # Concurrent waits (several catalogues fetched at once) count once: the wall time during
    # which at least one upstream call was pending.
    def upstream_started(self) -> None:
        if self._waits == 0:
            self._waiting_since = time.perf_counter()
        self._waits += 1

    def upstream_ended(self) -> None:
        self._waits -= 1
        if self._waits == 0:
            self.upstream_seconds += time.perf_counter() - self._waiting_since

    def overhead_ms(self) -> float:
        """Time spent in the relay so far, not counting waits on 1min.ai."""
        now = time.perf_counter()
        waiting = now - self._waiting_since if self._waits else 0.0
        return max(0.0, (now - self.started - self.upstream_seconds - waiting) * 1000)


_current: ContextVar[Trace | None] = ContextVar("relay_trace", default=None)


def start(incoming_id: str | None) -> Trace:
    """Open the trace for this request (in this task's context), keeping a sane incoming id."""
    trace = Trace(incoming_id if incoming_id and _SANE_ID.fullmatch(incoming_id) else new_id())
    _current.set(trace)
    return trace


def new_id() -> str:
    # 128 random bits as 32 hex digits, like uuid4().hex but without a system call: an id to
    # correlate logs, not a secret.
    return f"{random.getrandbits(128):032x}"


def current() -> Trace | None:
    return _current.get()


def request_id() -> str | None:
    trace = _current.get()
    return trace.request_id if trace is not None else None


def upstream_started() -> Trace | None:
    """Mark the start of a wait on 1min.ai; pass the result to `upstream_ended`."""
    trace = _current.get()
    if trace is not None:
        trace.upstream_started()
    return trace


def upstream_ended(trace: Trace | None) -> None:
    if trace is not None:
        trace.upstream_ended()


def attach_call(call: Any) -> None:
    trace = _current.get()
    if trace is not None:
        trace.call = call
