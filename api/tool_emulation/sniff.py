"""Streaming: releasing a reply's text as it comes while holding back whatever may be a tool call.

A call can start where `parse.py` looks for one: a `<tool_call>` tag anywhere, or JSON (`{`, or `[`
then `{`, or a ``` fence whose first line of content starts so) opening a line. Text before such a
start is released at once; from a confirmed start the rest of the reply is held to the end, when
the caller parses it (`held`). A possible start not yet confirmed (`<tool_ca`, a fence whose first
line is still coming) is held only until it is confirmed or refuted. Trailing whitespace is held
too, so prose followed by a call does not end in stray blank lines.

Work per piece stays bounded by the piece and what is still unreleased, never the whole reply so
far: released text leaves the scanned buffer in chunks, and a held call's pieces are only listed.
"""
from __future__ import annotations

from api.tool_emulation.prompt import OPEN_TAG

CALL, MAYBE, TEXT = "call", "maybe", "text"


def _at_line_start(text: str, pos: int, start_is_line_start: bool = True) -> bool:
    # Looks back over indentation only, so a long line full of braces stays linear. Reaching the
    # buffer's start answers with what the text before it (no longer kept) said.
    i = pos - 1
    while i >= 0 and text[i] in " \t":
        i -= 1
    return start_is_line_start if i < 0 else text[i] == "\n"


def _first_visible(text: str, pos: int) -> int:
    """The index of the first non-whitespace character at or after `pos` (len(text) if none)."""
    while pos < len(text) and text[pos] in " \t\r\n":
        pos += 1
    return pos


def classify(text: str, pos: int, start_is_line_start: bool = True) -> tuple[str, int]:
    """Whether a call may start at `pos`: (CALL, pos), (MAYBE, pos), or (TEXT, where to resume).

    `start_is_line_start` says whether `text` begins a line (it may be the tail of a longer reply).
    """
    if text[pos] == "<":
        piece = text[pos:pos + len(OPEN_TAG)]
        if piece == OPEN_TAG:
            return CALL, pos
        return (MAYBE, pos) if OPEN_TAG.startswith(piece) else (TEXT, pos + 1)
    if not _at_line_start(text, pos, start_is_line_start):
        return TEXT, pos + 1
    if text[pos] == "{":
        return CALL, pos
    if text[pos] == "[":
        after = _first_visible(text, pos + 1)
        if after == len(text):
            return MAYBE, pos
        return (CALL, pos) if text[after] == "{" else (TEXT, pos + 1)
    if text[pos] == "`":
        piece = text[pos:pos + 3]
        if piece != "```":
            return (MAYBE, pos) if "```".startswith(piece) and pos + len(piece) == len(text) else (TEXT, pos + 1)
        newline = text.find("\n", pos)
        if newline < 0:
            return MAYBE, pos
        first = _first_visible(text, newline + 1)
        if first == len(text):
            return MAYBE, pos
        return (CALL, pos) if text[first] in "{[" else (TEXT, newline + 1)
    return TEXT, pos + 1


# Released text beyond this many characters leaves the scanned buffer, so appending a piece copies
# little however long the reply grows (a str += on an attribute copies the whole string each time).
_KEEP_RELEASED = 4096


class Sniffer:
    """Feed the reply's pieces in order; each `feed` returns the text safe to release now.

    After the last piece, `finish()` returns the text still to release; `held` then holds the part
    kept back as a possible call ("" when the reply is all text). `hold_all` holds everything.
    """

    def __init__(self, hold_all: bool = False) -> None:
        self._dropped: list[str] = []  # released text no longer in the buffer, in order
        self._starts_line = True  # whether the buffer begins a line (the dropped text ends one)
        self._buffer = ""  # the reply from the end of `_dropped` up to the hold, or to now
        self._after_hold: list[str] = []  # pieces that arrived once a call was confirmed
        self._released = 0  # positions in `_buffer`
        self._scanned = 0  # positions before this are known not to start a call
        self._hold_from: int | None = 0 if hold_all else None

    @property
    def held(self) -> str:
        if self._hold_from is None:
            return ""
        return self._buffer[self._hold_from:] + "".join(self._after_hold)

    @property
    def released(self) -> str:
        return "".join(self._dropped) + self._buffer[:self._released]

    @property
    def unreleased(self) -> str:
        """Everything not released yet: what to show when the held part turns out to be text."""
        return self._buffer[self._released:] + "".join(self._after_hold)

    @property
    def text(self) -> str:
        return "".join([*self._dropped, self._buffer, *self._after_hold])

    def feed(self, piece: str) -> str:
        if self._hold_from is not None:
            self._after_hold.append(piece)
            return ""
        self._buffer += piece
        text = self._buffer
        limit = len(text)
        pos = self._scanned
        while pos < len(text):
            if text[pos] not in "<{[`":
                pos += 1
                continue
            verdict, resume = classify(text, pos, self._starts_line)
            if verdict == CALL:
                self._hold_from = limit = pos
                break
            if verdict == MAYBE:
                limit = pos
                break
            pos = resume
        self._scanned = pos if self._hold_from is None else self._scanned
        out = self._release(limit, final=False)
        if self._released > _KEEP_RELEASED:
            self._drop_released()
        return out

    def _drop_released(self) -> None:
        cut = self._released
        gone = self._buffer[:cut]
        self._dropped.append(gone)
        visible = gone.rstrip(" \t")
        self._starts_line = visible.endswith("\n") if visible else self._starts_line
        self._buffer = self._buffer[cut:]
        self._released = 0
        self._scanned -= cut
        if self._hold_from is not None:
            self._hold_from -= cut

    def _release(self, limit: int, final: bool) -> str:
        end = limit if final else self._released + len(self._buffer[self._released:limit].rstrip())
        out = self._buffer[self._released:end]
        self._released = max(self._released, end)
        return out

    def finish(self) -> str:
        """The text left to release at the end (a possible start never confirmed is text)."""
        if self._hold_from is not None:
            return self._release(self._hold_from, final=False)
        return self._release(len(self._buffer), final=True)
