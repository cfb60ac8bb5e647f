"""The one way async code runs ORM work: on a worker thread, with the connection hygiene Django gives requests."""
from __future__ import annotations

from typing import Any, Callable, TypeVar

from asgiref.sync import sync_to_async
from django.db import close_old_connections

T = TypeVar("T")


def _fresh(fn: Callable[..., T], *args: Any) -> T:
    # Worker threads outlive requests, so they close connections past CONN_MAX_AGE themselves.
    close_old_connections()
    try:
        return fn(*args)
    finally:
        close_old_connections()


async def run_db(fn: Callable[..., T], *args: Any) -> T:
    """Run `fn(*args)` on a thread pool (not Django's one shared thread)."""
    return await sync_to_async(_fresh, thread_sensitive=False)(fn, *args)
