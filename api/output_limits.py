"""Local `stop` and `max_tokens`: 1min.ai has neither, so the relay cuts the answer itself."""
from __future__ import annotations

import asyncio

from core import token_counting

# A tail this long with no split point in it (a run of dots, spaces or emoji, unpunctuated CJK) is bounded
# not by its bytes but by its last count, plus the bytes added since, plus SEAM_SLACK: BPE of a
# concatenation can differ from the sum of its parts at the seam (appending to such runs never added
# more tokens than it added bytes in our trials). A long tail is then recounted a logarithmic number of
# times, not on every delta.
LONG_TAIL_CHARS = 4096
SEAM_SLACK = 4


def _utf8_len(text: str) -> int:
    return len(text) if text.isascii() else len(text.encode())


class SentText:
    """Text released piece by piece, joined when read: `+=` on an attribute copies the whole text
    on every piece, quadratic over a long streamed answer."""

    __slots__ = ("_pieces",)

    def __init__(self) -> None:
        self._pieces: list[str] = []

    def add(self, piece: str) -> None:
        self._pieces.append(piece)

    @property
    def text(self) -> str:
        if len(self._pieces) > 1:
            self._pieces = ["".join(self._pieces)]
        return self._pieces[0] if self._pieces else ""


class OutputLimiter:
    """Feed deltas in order; it returns what may be sent and says when the answer must end.

    Up to (longest stop sequence - 1) characters are held back so a stop sequence split across
    deltas is still found before any of it reaches the client.

    With max_tokens, the emitted text is a head, ending at a split point (token_counting.split_point)
    and counted once, and a tail counted again only when an upper bound on its tokens (a token is at
    least a byte) could pass what the head leaves: the cut is the one the whole text decides, and
    each character is tokenized about once (a long run without split points: a logarithmic number
    of times).
    """

    def __init__(self, stop: list[str], max_tokens: int | None, model: str) -> None:
        self.stop = [s for s in stop if s]
        self.max_tokens = max_tokens
        self.model = model
        self._hold = max((len(s) for s in self.stop), default=1) - 1
        self._pending = ""
        self._sent = SentText()
        self._head_tokens = 0
        self._tail: list[str] = []
        self._tail_chars = self._tail_bytes = 0
        self._tail_counted: tuple[int, int] | None = None  # a long tail's (tokens, bytes) at its last count
        self.finish_reason: str | None = None
        self.matched_stop: str | None = None  # which stop sequence ended the answer

    @property
    def done(self) -> bool:
        return self.finish_reason is not None

    @property
    def emitted(self) -> str:
        """All the text released so far."""
        return self._sent.text

    def feed(self, delta: str) -> str:
        if self.done or not delta:
            return ""
        text = self._pending + delta
        cut = self._first_stop(text)
        if cut is not None:
            self.matched_stop = min((s for s in self.stop if s in text), key=lambda s: (text.find(s), -len(s)))
            self._pending = ""
            self.finish_reason = "stop"
            return self._accept(text[:cut])
        safe = len(text) - self._hold if self._hold else len(text)
        self._pending = text[safe:]
        return self._accept(text[:safe])

    def flush(self) -> str:
        """At the end of the upstream answer: release what was held back."""
        text, self._pending = self._pending, ""
        return self._accept(text) if not self.done else ""

    async def feed_async(self, delta: str) -> str:
        """feed from async code: a delta that makes it count over OFF_LOOP_CHARS characters (the
        answer's first count, a long tail) is taken on a worker thread."""
        if self._counts_long(delta):
            return await asyncio.to_thread(self.feed, delta)
        return self.feed(delta)

    async def flush_async(self) -> str:
        if self._counts_long(""):
            return await asyncio.to_thread(self.flush)
        return self.flush()

    def _first_stop(self, text: str) -> int | None:
        hits = [i for i in (text.find(s) for s in self.stop) if i >= 0]
        return min(hits) if hits else None

    def _accept(self, text: str) -> str:
        if not text:
            return ""
        if self.max_tokens is not None:
            text = self._within(self.max_tokens, text)
        self._sent.add(text)
        return text

    def _tail_bound(self) -> int:
        """At least the tokens of the tail."""
        if self._tail_counted is None:
            return self._tail_bytes
        tokens, size = self._tail_counted
        return min(self._tail_bytes, tokens + self._tail_bytes - size + SEAM_SLACK)

    def _counts_long(self, delta: str) -> bool:
        """Whether feeding `delta` (or flushing, with "") may count over OFF_LOOP_CHARS characters."""
        if self.max_tokens is None or self.done:
            return False
        if self._tail_chars + len(self._pending) + len(delta) <= token_counting.OFF_LOOP_CHARS:
            return False
        added = _utf8_len(self._pending) + _utf8_len(delta)
        return self._head_tokens + self._tail_bound() + added > self.max_tokens

    def _within(self, max_tokens: int, text: str) -> str:
        """What of `text` fits in max_tokens; the tail is counted only when its bound could pass them."""
        size = _utf8_len(text)
        if self._head_tokens + self._tail_bound() + size <= max_tokens:
            self._tail.append(text)
            self._tail_chars += len(text)
            self._tail_bytes += size
            return text
        left = max_tokens - self._head_tokens
        tail = "".join(self._tail) + text
        split = token_counting.split_point(tail)
        # Counted in two parts (the split point is a token boundary): the first is the new head's.
        head, allowed = token_counting.fit_tokens(tail[:split], left, self.model)
        rest = 0
        if head <= left:
            rest, kept = token_counting.fit_tokens(tail[split:], left - head, self.model)
            allowed = tail[:split] + kept
        if len(allowed) < len(tail):
            self.finish_reason = "length"
            self._pending = ""
            return allowed[len(tail) - len(text):]
        # Everything up to the split point is counted for good; what follows it is the new tail.
        self._head_tokens += head
        remainder = tail[split:]
        self._tail = [remainder]
        self._tail_chars = len(remainder)
        self._tail_bytes = _utf8_len(remainder)
        self._tail_counted = (rest, self._tail_bytes) if len(remainder) >= LONG_TAIL_CHARS else None
        return text


def limit_text(text: str, stop: list[str], max_tokens: int | None, model: str) -> tuple[str, str | None]:
    """Apply the limits to a whole answer: (text, "stop" | "length" | None if untouched)."""
    limiter = OutputLimiter(stop, max_tokens, model)
    out = limiter.feed(text) + limiter.flush()
    return out, limiter.finish_reason


async def limit_text_async(text: str, stop: list[str], max_tokens: int | None, model: str) -> tuple[str, str | None]:
    """limit_text from async code: an answer counted over OFF_LOOP_CHARS characters on a worker thread."""
    limiter = OutputLimiter(stop, max_tokens, model)
    out = await limiter.feed_async(text)
    out += await limiter.flush_async()
    return out, limiter.finish_reason
