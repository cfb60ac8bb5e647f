"""Local `stop` and `max_tokens`: 1min.ai has neither, so the relay cuts the answer itself."""
from __future__ import annotations

from core import token_counting


class OutputLimiter:
    """Feed deltas in order; it returns what may be sent and says when the answer must end.

    Up to (longest stop sequence - 1) characters are held back so a stop sequence split across
    deltas is still found before any of it reaches the client.
    """

    def __init__(self, stop: list[str], max_tokens: int | None, model: str) -> None:
        self.stop = [s for s in stop if s]
        self.max_tokens = max_tokens
        self.model = model
        self._hold = max((len(s) for s in self.stop), default=1) - 1
        self._pending = ""
        self.emitted = ""
        self.finish_reason: str | None = None
        self.matched_stop: str | None = None  # which stop sequence ended the answer

    @property
    def done(self) -> bool:
        return self.finish_reason is not None

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

    def _first_stop(self, text: str) -> int | None:
        hits = [i for i in (text.find(s) for s in self.stop) if i >= 0]
        return min(hits) if hits else None

    def _accept(self, text: str) -> str:
        if not text:
            return ""
        if self.max_tokens is not None:
            candidate = self.emitted + text
            # A token is at least one byte, so under the byte count no tokenizing is needed.
            if len(candidate.encode()) > self.max_tokens:
                allowed = token_counting.truncate_to_tokens(candidate, self.max_tokens, self.model)
                if len(allowed) < len(candidate):
                    text = allowed[len(self.emitted):]
                    self.finish_reason = "length"
                    self._pending = ""
        self.emitted += text
        return text


def limit_text(text: str, stop: list[str], max_tokens: int | None, model: str) -> tuple[str, str | None]:
    """Apply the limits to a whole answer: (text, "stop" | "length" | None if untouched)."""
    limiter = OutputLimiter(stop, max_tokens, model)
    out = limiter.feed(text) + limiter.flush()
    return out, limiter.finish_reason
