"""Client 1min.ai keys that 1min.ai refused lately, by fingerprint, so key-free calls refuse them too.

GET /v1/models is served from the cached catalogue, which 1min.ai gives without a key: the relay
cannot tell a bad passthrough key from a good one there without spending the key's credits. What
it can know is which keys 1min.ai itself refused on a recent call (docs/models-and-aliases.md).
"""
from __future__ import annotations

import logging

from django.conf import settings
from django.core.cache import cache

logger = logging.getLogger(__name__)


def _name(fingerprint: str) -> str:
    return f"refused-key:v1:{fingerprint}"


async def remember(fingerprint: str) -> None:
    if settings.REFUSED_KEY_MEMORY_SECONDS <= 0:
        return
    try:
        await cache.aset(_name(fingerprint), 1, settings.REFUSED_KEY_MEMORY_SECONDS)
    except Exception:  # noqa: BLE001 - only a convenience for models.list
        logger.warning("shared cache unavailable: a refused key is not remembered")


async def was_refused(fingerprint: str) -> bool:
    if settings.REFUSED_KEY_MEMORY_SECONDS <= 0:
        return False
    try:
        return bool(await cache.aget(_name(fingerprint)))
    except Exception:  # noqa: BLE001
        return False
