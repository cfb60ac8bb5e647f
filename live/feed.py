"""This process's live feed: finished calls and open streams, buffered for the publisher.

The API's only cost: a finish hook appends one tuple, a stream start or end moves a counter. The
publisher (live/publisher.py) takes the buffer as one batch a few times a second.
"""
from __future__ import annotations

import time
import uuid
from collections import Counter
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:
    from core.call_context import CallContext

# Calls kept between two flushes; past it (the publisher is stuck) new ones are only counted.
MAX_BUFFERED = 20_000
# Finished calls each batch carries in full (the rest only as counts): the page lists the latest.
RECENT_PER_BATCH = 50
# While streams are open a process repeats its count this often, so a view opened later (or a
# process that died) is right within a few seconds.
STREAMS_HEARTBEAT_SECONDS = 5.0


class Finished(NamedTuple):
    """One finished call, as the page lists it (a key fingerprint, never a key)."""

    time: float  # Unix time the call ended
    endpoint: str
    status: int
    tokens: int
    duration_ms: float
    model: str
    key: str  # fingerprint, "" when the caller presented none
    client_ip: str


def endpoint_name(endpoint: str) -> str:
    """Views name their endpoint; a bare path (a view without a name) is grouped as "other"."""
    return "other" if endpoint.startswith("/") else endpoint


def is_error(status: int) -> bool:
    """5xx: the relay's own failures and 1min.ai's (502, 503, 504 are how upstream failures end)."""
    return status >= 500


class Feed:
    """Buffer of one process; every method runs on the event loop, so no lock is needed."""

    def __init__(self, clock=time.time) -> None:
        self.process = uuid.uuid4().hex[:12]
        self.clock = clock
        self.calls: list[Finished] = []
        self.overflow: Counter[str] = Counter()  # calls not buffered (full), by endpoint
        self.open_streams: Counter[str] = Counter()
        self.streams_changed = False
        self.streams_sent_at = 0.0

    def add(self, call: "CallContext") -> None:
        if len(self.calls) >= MAX_BUFFERED:
            self.overflow[endpoint_name(call.endpoint)] += 1
            return
        self.calls.append(Finished(
            self.clock(), endpoint_name(call.endpoint), call.status, call.prompt_tokens + call.completion_tokens,
            round(call.latency_ms, 1), call.model or "", call.key_fingerprint or "", call.client_ip,
        ))

    def stream_opened(self, endpoint: str) -> None:
        self.open_streams[endpoint] += 1
        self.streams_changed = True

    def stream_closed(self, endpoint: str) -> None:
        self.open_streams[endpoint] -= 1
        self.streams_changed = True

    def take_batch(self) -> dict[str, Any] | None:
        """What changed since the last batch, pre-counted by endpoint; None when nothing did."""
        now = self.clock()
        streams_open = any(n > 0 for n in self.open_streams.values())
        heartbeat = streams_open and now - self.streams_sent_at >= STREAMS_HEARTBEAT_SECONDS
        if not (self.calls or self.overflow or self.streams_changed or heartbeat):
            return None
        calls, self.calls = self.calls, []
        counts: dict[str, list[int]] = {}
        for call in calls:
            row = counts.setdefault(call.endpoint, [0, 0, 0, 0])
            row[0] += 1
            row[1] += is_error(call.status)
            row[2] += call.status == 429
            row[3] += call.tokens
        for endpoint, n in self.overflow.items():
            counts.setdefault(endpoint, [0, 0, 0, 0])[0] += n
        self.overflow.clear()
        self.streams_changed = False
        self.streams_sent_at = now
        return {
            "process": self.process,
            "sent": now,
            "counts": counts,
            "recent": [list(call) for call in calls[-RECENT_PER_BATCH:]],
            "streams": {endpoint: n for endpoint, n in self.open_streams.items() if n > 0},
        }


feed = Feed()
