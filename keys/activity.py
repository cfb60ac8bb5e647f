"""Relay-key last-used times and upstream-key counts, gathered in memory and written in batches.

The request path only touches a dict; a background task writes at most every
RELAY_KEY_ACTIVITY_FLUSH_SECONDS per process, on a worker thread. A process that dies loses at
most that window of counts.
"""
from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db.models import F
from django.utils import timezone

from core.db_thread import run_db

logger = logging.getLogger(__name__)


@dataclass
class UpstreamTally:
    requests: int = 0
    failures: int = 0
    last_used_at: datetime | None = None
    last_failure_at: datetime | None = None
    last_failure_reason: str = ""


def _write(relay_used: dict[int, datetime], upstream: dict[int, UpstreamTally]) -> None:
    from keys.models import RelayKey, UpstreamKey

    # QuerySet.update sends no post_save: these writes do not invalidate any cache.
    for key_id, when in relay_used.items():
        RelayKey.objects.filter(pk=key_id).update(last_used_at=when)
    for key_id, tally in upstream.items():
        changes: dict = {"requests": F("requests") + tally.requests, "failures": F("failures") + tally.failures}
        if tally.last_used_at:
            changes["last_used_at"] = tally.last_used_at
        if tally.last_failure_at:
            changes["last_failure_at"] = tally.last_failure_at
            changes["last_failure_reason"] = tally.last_failure_reason
        UpstreamKey.objects.filter(pk=key_id).update(**changes)


class Activity:
    def __init__(self) -> None:
        self._relay_used: dict[int, datetime] = {}
        self._upstream: dict[int, UpstreamTally] = {}
        self._task: asyncio.Task | None = None

    def relay_key_used(self, key_id: int) -> None:
        self._relay_used[key_id] = timezone.now()
        self._schedule()

    def upstream_used(self, key_id: int) -> None:
        tally = self._upstream.setdefault(key_id, UpstreamTally())
        tally.requests += 1
        tally.last_used_at = timezone.now()
        self._schedule()

    def upstream_failed(self, key_id: int, reason: str) -> None:
        tally = self._upstream.setdefault(key_id, UpstreamTally())
        tally.failures += 1
        tally.last_failure_at, tally.last_failure_reason = timezone.now(), reason
        self._schedule()

    def _schedule(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._flush_loop())

    async def _flush_loop(self) -> None:
        while self._relay_used or self._upstream:
            await asyncio.sleep(settings.RELAY_KEY_ACTIVITY_FLUSH_SECONDS)
            await self.flush()

    async def flush(self) -> None:
        relay_used, upstream = self._relay_used, self._upstream
        self._relay_used, self._upstream = {}, {}
        if not relay_used and not upstream:
            return
        try:
            await run_db(_write, relay_used, upstream)
        except Exception:  # noqa: BLE001 - bookkeeping must never affect a request
            logger.exception("could not record key activity")


activity = Activity()
