"""Values made storable: NUL and lone surrogates, which PostgreSQL refuses in text and jsonb, become U+FFFD."""
from __future__ import annotations

from typing import Any

REPLACEMENT = "\ufffd"


def storable_text(text: str) -> str:
    """`text` with NUL and unpaired surrogates replaced; unchanged (the same object) when already clean."""
    if "\x00" in text:
        text = text.replace("\x00", REPLACEMENT)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        # A paired surrogate (from JSON "\ud83d\ude00") is rejoined; a lone one is replaced.
        text = text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    return text


def storable(value: Any) -> Any:
    """A JSON-like value (dicts, lists, strings, numbers) with every string, key included, made storable."""
    if isinstance(value, str):
        return storable_text(value)
    if isinstance(value, dict):
        return {storable_text(k) if isinstance(k, str) else k: storable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [storable(v) for v in value]
    return value
