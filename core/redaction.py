"""Secrets and echoed input kept out of error messages a client sees: redaction and truncation."""
from __future__ import annotations

import re
from typing import Iterable

# Longest error message a client is sent; longer text is echoed input or an upstream dump.
MAX_MESSAGE_CHARS = 2000
# Longest piece of client input quoted back inside a message (a model name, an id).
MAX_ECHO_CHARS = 120
REDACTED = "[redacted]"
_MIN_SECRET_CHARS = 8

_PATTERNS = [
    # "Bearer <token>" in any casing.
    (re.compile(r"(?i)\b(bearer)\s+[^\s\"',;]+"), r"\1 " + REDACTED),
    # api-key=…, "apiKey": "…", token: …, secret=…, password=…
    (re.compile(r"(?i)\b((?:x-)?api[-_ ]?key|token|secret|password|authorization)([\"']?\s*[:=]\s*[\"']?)"
                r"[^\s\"',;]{6,}"), r"\1\2" + REDACTED),
    # Vendor-style keys: sk-…, rk-…, pk-…, sess-…
    (re.compile(r"\b(?:sk|rk|pk|sess)-[A-Za-z0-9_\-]{12,}"), REDACTED),
    # Long opaque tokens mixing letters and digits (hex or base62 keys, JWT parts).
    (re.compile(r"\b(?=[A-Za-z0-9]*\d)(?=[A-Za-z0-9]*[A-Za-z])[A-Za-z0-9]{32,}\b"), REDACTED),
]


class _KnownSecrets:
    """The pool's 1min.ai keys, as last loaded by this process (replaced whole on each load)."""

    def __init__(self) -> None:
        self.values: frozenset[str] = frozenset()

    def replace(self, secrets: Iterable[str]) -> None:
        self.values = frozenset(s for s in secrets if s and len(s) >= _MIN_SECRET_CHARS)


known_secrets = _KnownSecrets()


def redact(text: str, secrets: Iterable[str | None] = ()) -> str:
    """`text` with the given secrets, the pool's keys and anything key-shaped replaced by [redacted].

    Only for text from elsewhere (1min.ai's messages): the relay's own messages need none.
    """
    text = text[: MAX_MESSAGE_CHARS + 200]  # bounded first: the patterns never scan a megabyte
    for secret in (*secrets, *known_secrets.values):
        if secret and len(secret) >= _MIN_SECRET_CHARS and secret in text:
            text = text.replace(secret, REDACTED)
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def truncated(text: str, limit: int = MAX_ECHO_CHARS) -> str:
    """`text` cut to `limit` characters, saying how much was left out."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… ({len(text) - limit} more characters)"


def bounded(message: str) -> str:
    """A message of at most MAX_MESSAGE_CHARS (plus a note of what was cut)."""
    return truncated(message, MAX_MESSAGE_CHARS)
