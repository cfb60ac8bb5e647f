"""What the usage pages and reports say about a key fingerprint, filled in by the app that owns keys.

`quotas` knows callers only by fingerprint and must not import `keys` (which depends on it); the
keys app registers its lookups here in `ready()`, and without it the pages show bare fingerprints.
"""
from __future__ import annotations

from typing import Callable

Labels = Callable[[], dict[str, dict]]
Search = Callable[[str], list[str]]

NO_KEY = "(no key)"  # how every page and report shows usage that carried no key

_labels: Labels = dict
_search: Search = lambda text: []  # noqa: E731 - a do-nothing default


def register(labels: Labels, search: Search) -> None:
    """`labels()`: fingerprint → {"id", "name", "policy", "enabled", "kind"} ("relay" for a relay
    key, "pass-through" for a pass-through key the operator named); `search(text)`: fingerprints
    of the keys whose name contains `text`."""
    global _labels, _search
    _labels, _search = labels, search


def labels_by_fingerprint() -> dict[str, dict]:
    return _labels()


def fingerprints_named(text: str) -> list[str]:
    return _search(text)


def describe(fingerprint: str, labels: dict[str, dict] | None = None) -> str:
    """One line for a key in text: `name (fingerprint)`, the bare fingerprint, or NO_KEY."""
    if not fingerprint:
        return NO_KEY
    label = (labels if labels is not None else labels_by_fingerprint()).get(fingerprint)
    return f"{label['name']} ({fingerprint})" if label else fingerprint
