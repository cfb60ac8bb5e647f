"""Usage accounting: one record per /v1/ call, written in batches off the request path.

A finished call only appends a row to this process's buffer (no I/O, so a stream is never
slowed). A background task on the event loop writes the buffer every USAGE_FLUSH_SECONDS, or
sooner when USAGE_BATCH_SIZE rows wait, in a worker thread: one bulk insert plus increments of
the daily roll-ups. daphne has no ASGI lifespan events, so the rows still buffered at a normal
shutdown (SIGTERM/SIGINT: Twisted stops the reactor and the interpreter exits) are written by an
`atexit` hook; a crash loses at most one flush interval.
"""
from __future__ import annotations

import asyncio
import atexit
import logging
import threading
import time
from collections import defaultdict
from datetime import date, datetime, timezone
from typing import Any

from django.conf import settings
from django.db import IntegrityError, InterfaceError, OperationalError, transaction
from django.db.models import F, Sum

from core.call_context import CallContext
from core.db_thread import run_db
from core.storable_text import storable_text
from quotas.client_identity import client_group
from quotas.graceful_shutdown import flush_at_graceful_shutdown

logger = logging.getLogger(__name__)
MAX_BUFFERED = 200_000  # while the database is down, keep this many rows and drop older ones
ROLLUP_SUMS = ("requests", "prompt_tokens", "completion_tokens", "credits", "streamed", "cut_short", "latency_ms_total")


def row_of(call: CallContext) -> dict[str, Any]:
    latency = call.latency_ms
    return {
        "time": datetime.fromtimestamp(time.time() - latency / 1000, tz=timezone.utc),
        # Client-chosen text (a model name) may hold a NUL that PostgreSQL would refuse.
        "client_ip": storable_text(client_group(call.client_ip)[:45]),  # an IPv6 client by its network
        "key_fingerprint": storable_text(call.key_fingerprint or ""),
        "endpoint": storable_text(call.endpoint[:64]),
        "model": storable_text((call.model or "")[:128]),
        "prompt_tokens": max(0, call.prompt_tokens),
        "completion_tokens": max(0, call.completion_tokens),
        "credits": call.credits,
        "status": call.status,
        "latency_ms": int(latency),
        "streamed": call.streamed,
        "cut_short": call.cut_short,
        "unmetered": bool(call.extra.get("unmetered")),
    }


def _rollup_key(row: dict[str, Any]) -> tuple:
    return (row["time"].date(), row["client_ip"], row["key_fingerprint"], row["endpoint"], row["model"], row["status"])


def write_batch(rows: list[dict[str, Any]]) -> None:
    """Insert the records and add them to their daily roll-ups, in one transaction."""
    from quotas.models import UsageDaily, UsageRecord

    sums: dict[tuple, dict[str, int]] = defaultdict(lambda: dict.fromkeys(ROLLUP_SUMS, 0))
    for row in rows:
        group = sums[_rollup_key(row)]
        group["requests"] += 1
        group["prompt_tokens"] += row["prompt_tokens"]
        group["completion_tokens"] += row["completion_tokens"]
        group["credits"] += row["credits"] or 0
        group["streamed"] += int(row["streamed"])
        group["cut_short"] += int(row["cut_short"])
        group["latency_ms_total"] += row["latency_ms"]
    with transaction.atomic():
        UsageRecord.objects.bulk_create([UsageRecord(**row) for row in rows])
        # A fixed order of row locks: two processes flushing at once cannot deadlock.
        for key in sorted(sums, key=lambda k: tuple(map(str, k))):
            fields = dict(zip(("day", "client_ip", "key_fingerprint", "endpoint", "model", "status"), key))
            increments = {name: F(name) + value for name, value in sums[key].items()}
            if UsageDaily.objects.filter(**fields).update(**increments):
                continue
            try:
                with transaction.atomic():
                    UsageDaily.objects.create(**fields, **sums[key])
            except IntegrityError:  # another process created it a moment ago
                UsageDaily.objects.filter(**fields).update(**increments)


def write_isolating(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Write `rows`; if the batch is refused, row by row so one bad record cannot hold back the rest.

    Returns the rows left unwritten because the database is unreachable (to retry later). A row the
    database refuses on its own is logged and dropped: retrying it would block every later batch.
    """
    try:
        write_batch(rows)
        return []
    except (OperationalError, InterfaceError):
        raise
    except Exception:  # noqa: BLE001 - a refused value, not an outage
        if len(rows) == 1:
            logger.exception("dropped a usage record the database refuses (endpoint %r)", rows[0].get("endpoint"))
            return []
        logger.warning("a batch of %d usage records was refused; writing them one by one", len(rows))
    for index, row in enumerate(rows):
        try:
            write_batch([row])
        except (OperationalError, InterfaceError):
            return rows[index:]
        except Exception:  # noqa: BLE001
            logger.exception("dropped a usage record the database refuses (endpoint %r)", row.get("endpoint"))
    return []


class UsageRecorder:
    """This process's buffer of finished calls and the task that writes it."""

    def __init__(self) -> None:
        self._rows: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._task: asyncio.Task | None = None
        self._wake: asyncio.Event | None = None
        self._exit_hook = False

    def add(self, call: CallContext) -> None:
        with self._lock:
            self._rows.append(row_of(call))
            full = len(self._rows) >= settings.USAGE_BATCH_SIZE
        self._start()
        if full and self._wake is not None:
            self._wake.set()

    def pending(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._rows)

    def _take(self) -> list[dict[str, Any]]:
        with self._lock:
            rows, self._rows = self._rows, []
        return rows

    def _give_back(self, rows: list[dict[str, Any]]) -> None:
        with self._lock:
            self._rows[:0] = rows
            if len(self._rows) > MAX_BUFFERED:
                dropped = len(self._rows) - MAX_BUFFERED
                del self._rows[:dropped]
                logger.error("usage buffer full while the database is down; dropped %d records", dropped)

    def _start(self) -> None:
        if not self._exit_hook:
            self._exit_hook = True
            atexit.register(self.flush_sync)
            flush_at_graceful_shutdown(self.flush)
        loop = asyncio.get_running_loop()
        if self._task is None or self._task.done() or self._task.get_loop() is not loop:
            self._wake = asyncio.Event()
            self._task = loop.create_task(self._run())

    async def _run(self) -> None:
        while True:
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=settings.USAGE_FLUSH_SECONDS)
            except asyncio.TimeoutError:
                pass
            self._wake.clear()
            await self.flush()

    async def flush(self) -> int:
        rows = self._take()
        if not rows:
            return 0
        try:
            unwritten = await run_db(write_isolating, rows)
        except Exception:  # noqa: BLE001 - keep the rows for the next attempt
            logger.exception("could not write %d usage records; will retry", len(rows))
            self._give_back(rows)
            return 0
        if unwritten:
            logger.error("could not write %d usage records; will retry", len(unwritten))
            self._give_back(unwritten)
        return len(rows) - len(unwritten)

    def flush_sync(self) -> int:
        """Write whatever is buffered, from sync code (the exit hook, commands, tests)."""
        rows = self._take()
        if rows:
            try:
                unwritten = write_isolating(rows)
            except Exception:  # noqa: BLE001
                logger.exception("lost %d usage records at shutdown", len(rows))
                return 0
            if unwritten:
                logger.error("lost %d usage records at shutdown", len(unwritten))
                return len(rows) - len(unwritten)
        return len(rows)


recorder = UsageRecorder()


def track(call: CallContext) -> None:
    """Record this call when it finishes (after its response, or its stream, is over)."""
    if not settings.USAGE_ENABLED:
        return

    async def record(finished: CallContext) -> None:
        recorder.add(finished)

    call.on_finish(record)


def _rolled_up_tokens(field: str, value: str, since: date) -> int:
    from quotas.models import UsageDaily

    totals = UsageDaily.objects.filter(day__gte=since, **{field: value}).aggregate(
        prompt=Sum("prompt_tokens"), completion=Sum("completion_tokens")
    )
    return (totals["prompt"] or 0) + (totals["completion"] or 0)


async def tokens_used_since(subject: str, since: date) -> int:
    """Tokens a subject ("ip:…" or "key:…") used from `since` on: roll-ups plus unwritten rows."""
    kind, _, value = subject.partition(":")
    field = "client_ip" if kind == "ip" else "key_fingerprint"
    used = await run_db(_rolled_up_tokens, field, value, since)
    for row in recorder.pending():
        if row[field] == value and row["time"].date() >= since:
            used += row["prompt_tokens"] + row["completion_tokens"]
    return used
