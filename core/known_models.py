"""Which model names the relay knows, for commands that take model lists (filled in by `api`).

`quotas` and `keys` must not import `api`, which owns the model catalogue and the aliases; the api app
registers its lookup here in `ready()`. Without it, or without a cached catalogue, nothing is judged.
"""
from __future__ import annotations

from typing import Callable, Iterable

Lookup = Callable[[], "set[str] | None"]
_lookup: Lookup = lambda: None  # noqa: E731 - a do-nothing default


def register(lookup: Lookup) -> None:
    """`lookup()`: every model id of the cached catalogue and every alias, or None when no
    catalogue is cached (then no name is judged unknown)."""
    global _lookup
    _lookup = lookup


def unknown(models: Iterable[str]) -> list[str] | None:
    """The names in `models` the relay does not know (`*` is always known); None when it cannot tell."""
    try:
        known = _lookup()
    except Exception:  # noqa: BLE001 - a cache or database outage: cannot tell, say so
        known = None
    if known is None:
        return None
    return [m for m in models if m != "*" and m not in known]


def warning(models: Iterable[str]) -> str:
    """A line for a command's output about unknown model names ("" when all are known)."""
    models = list(models)
    if not models:
        return ""
    found = unknown(models)
    if found is None:
        return ("Warning: the model names were not checked: no model list is cached here "
                "(run `manage.py refresh_models` with the relay's settings).")
    if not found:
        return ""
    names = ", ".join(found)
    return (f"Warning: 1min.ai's model list names no model {names} (nor does any alias); calls for "
            f"{'it' if len(found) == 1 else 'them'} will fail with 404 model_not_found. Check the spelling "
            "(`GET /v1/models` lists the models).")
