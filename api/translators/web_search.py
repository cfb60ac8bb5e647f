"""Web-search progress lines 1min.ai writes into answers (`🌐 Crawling site …`), taken out of them."""
from __future__ import annotations

PROGRESS_MARKER = "🌐 Crawling site "


def strip_progress(text: str) -> str:
    """The answer without its progress lines (each removed with its line end)."""
    kept = ProgressFilter()
    return kept.feed(text) + kept.flush()


class ProgressFilter:
    """The same for a stream of pieces: a line is held back only while it might still turn out to
    be a progress line (its start matches the marker so far), so pieces split anywhere come out as
    if the answer had been filtered whole."""

    def __init__(self) -> None:
        self._pending = ""  # the start of a line not yet known to be kept or dropped
        self._line_start = True
        self._dropping = False  # inside a progress line, up to its line end

    def feed(self, piece: str) -> str:
        text, self._pending = self._pending + piece, ""
        out: list[str] = []
        while text:
            if self._dropping:
                end = text.find("\n")
                if end < 0:
                    return "".join(out)
                text, self._dropping, self._line_start = text[end + 1:], False, True
            elif self._line_start:
                if text.startswith(PROGRESS_MARKER):
                    self._dropping = True
                elif PROGRESS_MARKER.startswith(text):
                    self._pending = text  # too short to tell yet
                    return "".join(out)
                else:
                    self._line_start = False
            else:
                end = text.find("\n")
                if end < 0:
                    out.append(text)
                    return "".join(out)
                out.append(text[: end + 1])
                text, self._line_start = text[end + 1:], True
        return "".join(out)

    def flush(self) -> str:
        """What is held back at the end of the answer (a lone marker prefix is ordinary text)."""
        rest, self._pending = self._pending, ""
        return "" if self._dropping else rest
