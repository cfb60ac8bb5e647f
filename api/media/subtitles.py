"""Subtitle cues: parsing SRT and WebVTT, fitting cues to the audio, rendering SRT and WebVTT; pure."""
from __future__ import annotations

import re
from dataclasses import dataclass

_STAMP = r"(?:\d+:)?\d{1,2}:\d{2}[,.]\d{1,3}"
_TIMING = re.compile(rf"^\s*({_STAMP})\s*-->\s*({_STAMP})")
_BLANK_LINES = re.compile(r"\n\s*\n+")


@dataclass(frozen=True)
class Cue:
    start: float  # seconds
    end: float
    text: str


def parse_timestamp(stamp: str) -> float:
    """Seconds in `HH:MM:SS,mmm`, `HH:MM:SS.mmm` or `MM:SS.mmm`."""
    clock, _, fraction = stamp.replace(",", ".").rpartition(".")
    parts = [int(p) for p in clock.split(":")]
    while len(parts) < 3:
        parts.insert(0, 0)
    hours, minutes, seconds = parts
    return hours * 3600 + minutes * 60 + seconds + int(fraction.ljust(3, "0")[:3]) / 1000


def parse_cues(text: str) -> list[Cue] | None:
    """The cues of an SRT or WebVTT document, or None when `text` is neither."""
    blocks = _BLANK_LINES.split(text.replace("\r\n", "\n").replace("\r", "\n").strip())
    cues: list[Cue] = []
    for block in blocks:
        lines = block.split("\n")
        for index, line in enumerate(lines[:2]):  # an SRT number or a VTT cue id may come first
            timing = _TIMING.match(line)
            if timing:
                body = "\n".join(lines[index + 1:]).strip()
                start, end = parse_timestamp(timing.group(1)), parse_timestamp(timing.group(2))
                cues.append(Cue(start, max(start, end), body))
                break
    return cues or None


def text_of(cues: list[Cue]) -> str:
    """The running text of cues, as OpenAI's `text` field joins segments."""
    return " ".join(" ".join(c.text.split()) for c in cues if c.text.strip())


def fit(cues: list[Cue], duration: float) -> list[Cue]:
    """Cues clamped to the audio: none starts after it ends or runs past its end."""
    fitted = []
    for cue in cues:
        start = min(max(cue.start, 0.0), duration)
        fitted.append(Cue(start, min(max(cue.end, start), duration), cue.text))
    return fitted


def whole(text: str, duration: float) -> list[Cue]:
    """One cue spanning the whole audio: the honest timing for an untimed transcript."""
    return [Cue(0.0, duration, text.strip())]


def _stamp(seconds: float, separator: str) -> str:
    millis = max(int(round(seconds * 1000)), 0)
    hours, millis = divmod(millis, 3_600_000)
    minutes, millis = divmod(millis, 60_000)
    secs, millis = divmod(millis, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{separator}{millis:03d}"


def _cue_text(text: str) -> str:
    # A blank line would end the cue early, and WebVTT forbids "-->" inside cue text.
    return _BLANK_LINES.sub("\n", text.strip()).replace("-->", "->")


def render_srt(cues: list[Cue]) -> str:
    blocks = [
        f"{number}\n{_stamp(c.start, ',')} --> {_stamp(c.end, ',')}\n{_cue_text(c.text)}\n"
        for number, c in enumerate(cues, start=1)
    ]
    return "\n".join(blocks) + "\n"


def render_vtt(cues: list[Cue]) -> str:
    blocks = [f"{_stamp(c.start, '.')} --> {_stamp(c.end, '.')}\n{_cue_text(c.text)}\n" for c in cues]
    return "WEBVTT\n\n" + "\n".join(blocks) + "\n"
