"""What /readyz checks: the database, the shared cache and a fresh model list, each with a deadline."""
from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any, Awaitable, Callable

from asgiref.sync import sync_to_async
from django.conf import settings

from api.model_registry import registry


def _ping_database() -> None:
    from django.db import connections

    connection = connections["default"]
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    finally:
        # A pool thread ran this; its connection would otherwise linger unmanaged.
        connection.close()


def _round_trip_cache() -> str:
    from django.core.cache import cache

    token = uuid.uuid4().hex
    cache.set("readyz", token, 30)
    if cache.get("readyz") != token:
        raise RuntimeError("a value written to the cache did not read back")
    return type(cache).__module__.split(".")[0]


async def check_database() -> dict[str, Any]:
    await sync_to_async(_ping_database, thread_sensitive=False)()
    return {"vendor": _database_vendor()}


async def check_cache() -> dict[str, Any]:
    # In a pool thread: a Redis that hangs must not hold up the thread Django shares for sync work.
    library = await sync_to_async(_round_trip_cache, thread_sensitive=False)()
    return {"backend": "redis" if settings.REDIS_URL else f"in-process ({library})"}


async def check_models() -> dict[str, Any]:
    snapshot = await registry.snapshot()  # fetches once when this process has none yet
    age = time.time() - snapshot.fetched_at
    if not snapshot.models:
        raise RuntimeError("the model list is empty")
    if age > settings.READYZ_MODELS_MAX_AGE:
        raise RuntimeError(
            f"the model list is {age:.0f} s old (limit {settings.READYZ_MODELS_MAX_AGE} s): "
            "1min.ai's catalogue could not be refreshed"
        )
    return {"count": len(snapshot.models), "age_seconds": round(age, 1)}


async def check_warm_up() -> dict[str, Any]:
    from api.apps import warmed_up

    if not warmed_up.is_set():
        raise RuntimeError("the warm-up is not over (token tables, then the heap frozen: about a second after start)")
    return {}


def _database_vendor() -> str:
    from django.db import connections

    return connections["default"].vendor


CHECKS: dict[str, Callable[[], Awaitable[dict[str, Any]]]] = {
    "database": check_database,
    "cache": check_cache,
    "models": check_models,
    "warm_up": check_warm_up,
}


async def _run(check: Callable[[], Awaitable[dict[str, Any]]]) -> dict[str, Any]:
    started = time.perf_counter()
    try:
        detail = await asyncio.wait_for(check(), settings.READYZ_TIMEOUT)
        result: dict[str, Any] = {"ok": True, **detail}
    except asyncio.TimeoutError:
        result = {"ok": False, "error": f"no answer within {settings.READYZ_TIMEOUT:g} s"}
    except Exception as error:  # noqa: BLE001 - every failure is reported, none is raised
        result = {"ok": False, "error": _describe(error)}
    result["ms"] = round((time.perf_counter() - started) * 1000, 1)
    return result


def _describe(error: Exception) -> str:
    # The first line only: drivers put hosts and users in later lines, never a password here.
    message = str(error).strip().splitlines()[0] if str(error).strip() else ""
    return f"{type(error).__name__}: {message}"[:300] if message else type(error).__name__


async def readiness() -> tuple[bool, dict[str, Any]]:
    """(ready, report): every check run concurrently, each bounded by READYZ_TIMEOUT."""
    results = await asyncio.gather(*(_run(check) for check in CHECKS.values()))
    checks = dict(zip(CHECKS, results))
    problems = [f"{name}: {result['error']}" for name, result in checks.items() if not result["ok"]]
    return not problems, {"checks": checks, "problems": problems}
