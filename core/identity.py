"""The caller's API key, taken from `Authorization: Bearer …` or `x-api-key`."""
from __future__ import annotations

import hashlib


def presented_key(request) -> str:
    """The key the client sent (Bearer token or x-api-key), or "" when it sent none."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.strip().partition(" ")
    key = token.strip() if scheme.lower() == "bearer" else ""
    return key or request.headers.get("x-api-key", "").strip()


def fingerprint(api_key: str) -> str:
    """A stable, non-reversible name for a key: what the relay stores and logs instead of it."""
    return hashlib.sha256(api_key.encode()).hexdigest()[:32]
