"""Model aliases: MODEL_ALIASES parsing and seeding, and the alias table every process shares.

The table lives in the database (edited in the admin), is cached in the shared cache for the model
list's shared lifetime and in process memory for its memory lifetime, and carries a version token:
a save or delete anywhere sets a new token, so no process keeps serving a table older than that,
and is announced on core.broadcast's topic ALIASES, so every process drops its copy at once (should
the signal be lost, within MODEL_CACHE_MEMORY_SECONDS).
"""
from __future__ import annotations

import asyncio
import logging
import time
import uuid
from typing import Any

from django.conf import settings
from django.core.cache import cache

logger = logging.getLogger(__name__)

ALIASES = "api.model-aliases"  # the core.broadcast topic: an alias was saved or deleted
VERSION_KEY = "model-aliases:version:v1"
TABLE_KEY = "model-aliases:table:v1"
ONLINE_SUFFIX = ":online"
OUTAGE_RETRY_SECONDS = 30  # with the database down, how long a process waits before asking again


class AliasSyntaxError(ValueError):
    """MODEL_ALIASES (or an admin entry) is not `alias=target` pairs of model names."""


def check_pair(alias: str, target: str) -> tuple[str, str]:
    """One alias and its target, trimmed; AliasSyntaxError says what is wrong with them."""
    alias, target = (alias or "").strip(), (target or "").strip()
    if not alias or not target:
        raise AliasSyntaxError(f"`{alias}={target}` needs a name on both sides of `=`.")
    for name in (alias, target):
        if any(c.isspace() for c in name) or "," in name or "=" in name:
            raise AliasSyntaxError(f"`{name}` is not a model name (no spaces, commas or `=`).")
    if alias.lower().endswith(ONLINE_SUFFIX) or target.lower().endswith(ONLINE_SUFFIX):
        raise AliasSyntaxError(
            f"`{alias}={target}`: leave `:online` out; clients add it to the alias to turn on web search.")
    if alias == target:
        raise AliasSyntaxError(f"`{alias}` is an alias of itself.")
    return alias, target


def parse_aliases(raw: str) -> dict[str, str]:
    """`a=b,c=d` as {alias: target}; blank entries are ignored, anything else malformed raises."""
    table: dict[str, str] = {}
    for item in (raw or "").split(","):
        if not item.strip():
            continue
        if "=" not in item:
            raise AliasSyntaxError(f"`{item.strip()}` is not `alias=target`.")
        alias, _, target = item.partition("=")
        alias, target = check_pair(alias, target)
        if table.get(alias, target) != target:
            raise AliasSyntaxError(f"`{alias}` is given two targets ({table[alias]} and {target}).")
        table[alias] = target
    return table


# ---- seeding and change announcements (sync: migrations, signals, the admin) ------------------

def seed_from_settings() -> int:
    """Create the MODEL_ALIASES rows that do not exist yet; existing rows (maybe edited in the
    admin) are left alone. Returns how many were created."""
    from api.models import ModelAlias

    wanted = parse_aliases(settings.MODEL_ALIASES)
    if not wanted:
        return 0
    existing = set(ModelAlias.objects.filter(alias__in=list(wanted)).values_list("alias", flat=True))
    missing = [ModelAlias(alias=a, target=t, source="env") for a, t in wanted.items() if a not in existing]
    if missing:
        ModelAlias.objects.bulk_create(missing, ignore_conflicts=True)  # another process may race us
        announce_change()
    return len(missing)


def announce_change() -> None:
    """A new version token (every cached table older than this one is refused from now on), then
    every process drops its copy (table.forget, registered for ALIASES in ApiConfig.ready)."""
    from core import broadcast

    try:
        cache.set(VERSION_KEY, uuid.uuid4().hex, None)
    except Exception:  # noqa: BLE001 - a cache outage: other processes catch up on expiry
        logger.warning("shared cache unavailable: an alias change reaches other processes on expiry")
    broadcast.announce(ALIASES)


def _read_database() -> dict[str, str]:
    from api.models import ModelAlias

    return dict(ModelAlias.objects.values_list("alias", "target"))


# ---- the table on the request path -----------------------------------------------------------

class AliasTable:
    """This process's copy of the alias table: memory, then the shared cache, then the database."""

    def __init__(self) -> None:
        self._memory: dict[str, str] | None = None
        self._memory_until = 0.0
        self._seeded = False
        self._inflight: asyncio.Future[dict[str, str]] | None = None

    def forget(self) -> None:
        self._memory, self._memory_until = None, 0.0

    def cached(self) -> dict[str, str]:
        """The copy in memory, possibly stale or empty (no I/O: for synchronous callers)."""
        return self._memory or {}

    async def current(self) -> dict[str, str]:
        if self._memory is not None and time.monotonic() < self._memory_until:
            return self._memory
        if self._inflight is None or self._inflight.done():
            self._inflight = asyncio.ensure_future(self._load())
        return await asyncio.shield(self._inflight)

    async def _load(self) -> dict[str, str]:
        from core.db_thread import run_db

        if not self._seeded:
            # Once per process, so an operator's MODEL_ALIASES applies after a restart even when
            # another process filled the shared cache.
            try:
                if settings.MODEL_ALIASES.strip():
                    await run_db(seed_from_settings)
                self._seeded = True
            except Exception:  # noqa: BLE001 - the database is down: try again on the next load
                logger.warning("could not seed MODEL_ALIASES; the database is unavailable")
        version, shared = await _cache_get_many(VERSION_KEY, TABLE_KEY)
        if version is None:
            version = uuid.uuid4().hex
            if not await _cache_add(VERSION_KEY, version):
                version, _ = await _cache_get_many(VERSION_KEY, TABLE_KEY)
        if isinstance(shared, dict) and version is not None and shared.get("version") == version:
            aliases = dict(shared.get("aliases") or {})
        else:
            try:
                aliases = await run_db(_read_database)
            except Exception:  # noqa: BLE001 - a database outage must not stop the API
                logger.warning("alias table unavailable (database down); using the last copy for %ds",
                               OUTAGE_RETRY_SECONDS)
                self._memory = self._memory or {}
                self._memory_until = time.monotonic() + OUTAGE_RETRY_SECONDS
                return self._memory
            if version is not None:
                # Labelled with the token read *before* the database: a change committed meanwhile
                # has set a newer token, so this copy is refused rather than kept for an hour.
                await _cache_set(TABLE_KEY, {"version": version, "aliases": aliases},
                                 settings.MODEL_CACHE_SHARED_SECONDS)
        self._memory = aliases
        self._memory_until = time.monotonic() + settings.MODEL_CACHE_MEMORY_SECONDS
        return aliases


async def _cache_get_many(*keys: str) -> tuple[Any, ...]:
    try:
        found = await cache.aget_many(list(keys))
    except Exception:  # noqa: BLE001 - the database still answers
        logger.warning("shared cache unavailable while reading the alias table")
        return tuple(None for _ in keys)
    return tuple(found.get(k) for k in keys)


async def _cache_add(key: str, value: Any) -> bool:
    try:
        return bool(await cache.aadd(key, value, None))
    except Exception:  # noqa: BLE001
        return True  # no cache: use our token for this process's copy only


async def _cache_set(key: str, value: Any, timeout: int) -> None:
    try:
        await cache.aset(key, value, timeout)
    except Exception:  # noqa: BLE001
        logger.warning("shared cache unavailable while writing the alias table")


table = AliasTable()
