"""The live numbers: batches from every process folded into per-second buckets, and a snapshot of them.

Pure: time comes from the clock it is given, batches are plain dicts (live/feed.py makes them).
"""
from __future__ import annotations

import time
from collections import deque
from typing import Any, Callable

from live.feed import Finished, is_error

HORIZON_SECONDS = 60  # errors, 429s, requests and tokens are counted over the last minute
RATE_SECONDS = 10  # requests per second is the average over the last ten seconds
RECENT_ROWS = 50
# A process's open-stream count is trusted this long (it repeats it every 5 s while any are open).
STREAMS_TTL_SECONDS = 15.0
FIELDS = ("requests", "errors", "limited", "tokens")


class LiveWindow:
    def __init__(self, clock: Callable[[], float] = time.monotonic, recent_rows: int = RECENT_ROWS) -> None:
        self.clock = clock
        self.buckets: deque[tuple[int, dict[str, list[int]]]] = deque()
        self.recent: deque[Finished] = deque(maxlen=recent_rows)
        self.streams: dict[str, tuple[float, dict[str, int]]] = {}
        self.processes_seen: dict[str, float] = {}

    def add(self, batch: dict[str, Any]) -> None:
        """Fold one process's batch in, counted in the second it arrived (clocks of processes differ)."""
        now = self.clock()
        second = int(now)
        if not self.buckets or self.buckets[-1][0] != second:
            self.buckets.append((second, {}))
        bucket = self.buckets[-1][1]
        for endpoint, values in batch.get("counts", {}).items():
            row = bucket.setdefault(endpoint, [0, 0, 0, 0])
            for i, value in enumerate(values[:4]):
                row[i] += int(value)
        for values in batch.get("recent", ()):
            self.recent.append(Finished(*values))
        self.streams[batch["process"]] = (now, dict(batch.get("streams", {})))
        self.processes_seen[batch["process"]] = now
        self._expire(now)

    def _expire(self, now: float) -> None:
        while self.buckets and self.buckets[0][0] <= now - HORIZON_SECONDS:
            self.buckets.popleft()
        for process, seen in list(self.processes_seen.items()):
            if now - seen > HORIZON_SECONDS:
                del self.processes_seen[process]

    def snapshot(self, key_label: Callable[[str], str] = lambda fp: fp) -> dict[str, Any]:
        """Everything the page shows, as JSON-ready values."""
        now = self.clock()
        self._expire(now)
        minute: dict[str, list[int]] = {}
        recent_requests: dict[str, int] = {}
        for second, bucket in self.buckets:
            for endpoint, row in bucket.items():
                total = minute.setdefault(endpoint, [0, 0, 0, 0])
                for i, value in enumerate(row):
                    total[i] += value
                if second > now - RATE_SECONDS:
                    recent_requests[endpoint] = recent_requests.get(endpoint, 0) + row[0]
        streams: dict[str, int] = {}
        for seen, counts in self.streams.values():
            if now - seen <= STREAMS_TTL_SECONDS:
                for endpoint, n in counts.items():
                    streams[endpoint] = streams.get(endpoint, 0) + n
        endpoints = []
        for endpoint in sorted(set(minute) | set(streams)):
            row = minute.get(endpoint, [0, 0, 0, 0])
            endpoints.append({
                "endpoint": endpoint,
                **dict(zip(FIELDS, row)),
                "requests_per_second": round(recent_requests.get(endpoint, 0) / RATE_SECONDS, 2),
                "streams_open": streams.get(endpoint, 0),
            })
        totals = {field: sum(e[field] for e in endpoints) for field in FIELDS}
        return {
            "totals": {
                **totals,
                "requests_per_second": round(sum(recent_requests.values()) / RATE_SECONDS, 2),
                "tokens_per_minute": totals["tokens"],
                "streams_open": sum(streams.values()),
            },
            "endpoints": endpoints,
            "recent": [_row(call, key_label) for call in reversed(self.recent)],
            "processes": len(self.processes_seen),
            "window_seconds": HORIZON_SECONDS,
            "rate_seconds": RATE_SECONDS,
        }


def _row(call: Finished, key_label: Callable[[str], str]) -> dict[str, Any]:
    return {
        "time": call.time,
        "endpoint": call.endpoint,
        "client_ip": call.client_ip,
        "key": key_label(call.key) if call.key else "",
        "model": call.model,
        "status": call.status,
        "error": is_error(call.status),
        "tokens": call.tokens,
        "duration_ms": call.duration_ms,
    }
