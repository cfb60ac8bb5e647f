"""Database work handed to a worker thread gets the connection hygiene Django gives requests."""
from __future__ import annotations

from typing import Any, Callable

from django.db import close_old_connections


def in_worker(function: Callable[..., Any]) -> Callable[..., Any]:
    """`function` wrapped to drop broken or expired connections before and after it runs."""

    def run(*args: Any) -> Any:
        close_old_connections()
        try:
            return function(*args)
        finally:
            close_old_connections()

    return run
