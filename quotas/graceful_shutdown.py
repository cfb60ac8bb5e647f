"""Quotas' buffered work (usage rows, waiting rate-limit settlements) flushed at the relay's graceful shutdown."""
from __future__ import annotations

from typing import Any, Awaitable, Callable


def flush_at_graceful_shutdown(flush: Callable[[], Awaitable[Any]]) -> None:
    """Where the relay has a graceful-shutdown hook registry, run `flush` there (while the loop runs)."""
    try:
        from relay_site.shutdown import on_shutdown  # type: ignore[import-not-found]
    except ImportError:
        return
    on_shutdown(flush)
