"""Key material: relay keys (made, hashed, shown by prefix) and Fernet encryption of 1min.ai keys."""
from __future__ import annotations

import functools
import hashlib
import re
import secrets

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings

RELAY_KEY_PREFIX = "rk-"
# 32 random bytes, base64url: 256 bits, so a plain SHA-256 cannot be reversed by guessing.
_RELAY_KEY_SHAPE = re.compile(r"^rk-[A-Za-z0-9_-]{43}$")
DISPLAY_PREFIX_LENGTH = len(RELAY_KEY_PREFIX) + 6


class EncryptionUnavailable(Exception):
    """RELAY_ENCRYPTION_KEY is missing or is not a Fernet key (see the keys.E001 check)."""


class UndecryptableKey(Exception):
    """A stored 1min.ai key was encrypted with a key that RELAY_ENCRYPTION_KEY no longer holds."""


def new_relay_key() -> str:
    return RELAY_KEY_PREFIX + secrets.token_urlsafe(32)


def is_relay_key(presented: str) -> bool:
    """Whether a presented key claims to be a relay key (in `both` mode: not passed through)."""
    return presented.startswith(RELAY_KEY_PREFIX)


def well_formed(presented: str) -> bool:
    """A relay key of the right shape; anything else is refused without a lookup."""
    return bool(_RELAY_KEY_SHAPE.match(presented))


def hash_key(key: str) -> str:
    """SHA-256, hex. Its first 32 characters equal core.identity.fingerprint(key), the identity
    that limits and usage records use, so those records join to relay keys without the key."""
    return hashlib.sha256(key.encode()).hexdigest()


def display_prefix(key: str) -> str:
    return key[:DISPLAY_PREFIX_LENGTH]


def mask(secret: str) -> str:
    """How an operator sees a stored 1min.ai key: its last four characters only."""
    return "•" * 8 + secret[-4:] if len(secret) > 8 else "•" * 8


@functools.lru_cache(maxsize=4)
def _fernet(configured: str) -> MultiFernet:
    keys = [part.strip() for part in configured.split(",") if part.strip()]
    if not keys:
        raise EncryptionUnavailable("RELAY_ENCRYPTION_KEY is not set.")
    try:
        return MultiFernet([Fernet(key.encode()) for key in keys])
    except (ValueError, TypeError):
        raise EncryptionUnavailable(
            "RELAY_ENCRYPTION_KEY is not a Fernet key (32 url-safe base64-encoded bytes)."
        ) from None


def fernet() -> MultiFernet:
    return _fernet(settings.RELAY_ENCRYPTION_KEY or "")


def encrypt(secret: str) -> str:
    return fernet().encrypt(secret.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return fernet().decrypt(token.encode()).decode()
    except InvalidToken:
        raise UndecryptableKey("not decryptable with RELAY_ENCRYPTION_KEY") from None
