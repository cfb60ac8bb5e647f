"""Streaming: releasing a reply's text as it comes while holding back whatever may be a tool call.

A call can start where `parse.py` looks for one: a `<tool_call>` tag anywhere, or JSON (`{`, or `[`
then `{`, or a ``` fence whose first line of content starts so) opening a line. Text before such a
start is released at once; from a confirmed start the rest of the reply is held to the end, when
the caller parses it (`held`). A possible start not yet confirmed (`<tool_ca`, a fence whose first
line is still coming) is held only until it is confirmed or refuted. Trailing whitespace is held
too, so prose followed by a call does not end in stray blank lines.
"""
from __future__ import annotations

from api.tool_emulation.prompt import OPEN_TAG

CALL, MAYBE, TEXT = "call", "maybe", "text"


def _at_line_start(text: str, pos: int) -> bool:
    # Looks back over indentation only, so a long line full of braces stays linear.
    i = pos - 1
    while i >= 0 and text[i] in " \t":
        i -= 1
    return i < 0 or text[i] == "\n"


def _first_visible(text: str, pos: int) -> int:
    """The index of the first non-whitespace character at or after `pos` (len(text) if none)."""
    while pos < len(text) and text[pos] in " \t\r\n":
        pos += 1
    return pos


def classify(text: str, pos: int) -> tuple[str, int]:
    """Whether a call may start at `pos`: (CALL, pos), (MAYBE, pos), or (TEXT, where to resume)."""
    if text[pos] == "<":
        piece = text[pos:pos + len(OPEN_TAG)]
        if piece == OPEN_TAG:
            return CALL, pos
        return (MAYBE, pos) if OPEN_TAG.startswith(piece) else (TEXT, pos + 1)
    if not _at_line_start(text, pos):
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


class Sniffer:
    """Feed the reply's pieces in order; each `feed` returns the text safe to release now.

    After the last piece, `finish()` returns the text still to release; `held` then holds the part
    kept back as a possible call ("" when the reply is all text). `hold_all` holds everything.
    """

    def __init__(self, hold_all: bool = False) -> None:
        self._text = ""
        self._released = 0
        self._scanned = 0  # positions before this are known not to start a call
        self._hold_from: int | None = 0 if hold_all else None

    @property
    def held(self) -> str:
        return self._text[self._hold_from:] if self._hold_from is not None else ""

    @property
    def released(self) -> str:
        return self._text[:self._released]

    @property
    def unreleased(self) -> str:
        """Everything not released yet: what to show when the held part turns out to be text."""
        return self._text[self._released:]

    @property
    def text(self) -> str:
        return self._text

    def feed(self, piece: str) -> str:
        self._text += piece
        if self._hold_from is not None:
            return ""
        limit = len(self._text)
        pos = self._scanned
        while pos < len(self._text):
            if self._text[pos] not in "<{[`":
                pos += 1
                continue
            verdict, resume = classify(self._text, pos)
            if verdict == CALL:
                self._hold_from = limit = pos
                break
            if verdict == MAYBE:
                limit = pos
                break
            pos = resume
        self._scanned = pos if self._hold_from is None else self._scanned
        return self._release(limit, final=False)

    def _release(self, limit: int, final: bool) -> str:
        end = limit if final else self._released + len(self._text[self._released:limit].rstrip())
        out = self._text[self._released:end]
        self._released = max(self._released, end)
        return out

    def finish(self) -> str:
        """The text left to release at the end (a possible start never confirmed is text)."""
        if self._hold_from is not None:
            return self._release(self._hold_from, final=False)
        return self._release(len(self._text), final=True)
