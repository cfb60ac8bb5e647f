"""What the usage pages may say about a key fingerprint, filled in by the app that owns keys.

`quotas` knows callers only by fingerprint and must not import `keys` (which depends on it); the
keys app registers its lookups here in `ready()`, and without it the pages show bare fingerprints.
"""
from __future__ import annotations

from typing import Callable

Labels = Callable[[], dict[str, dict]]
Search = Callable[[str], list[str]]

_labels: Labels = dict
_search: Search = lambda text: []  # noqa: E731 - a do-nothing default


def register(labels: Labels, search: Search) -> None:
    """`labels()`: fingerprint → {"id", "name", "policy", "enabled"}; `search(text)`: fingerprints
    of the keys whose name contains `text`."""
    global _labels, _search
    _labels, _search = labels, search


def labels_by_fingerprint() -> dict[str, dict]:
    return _labels()


def fingerprints_named(text: str) -> list[str]:
    return _search(text)
