"""Streaming: the sniffer releases text at once and holds back only what may be a tool call."""
import pytest

from api.tool_emulation.sniff import Sniffer

CALL = '<tool_call>{"name": "f", "arguments": {}}</tool_call>'
PROSE = "".join(f"Line {i} of a long answer, with a {{brace}} and [brackets] mid-line.\n" for i in range(400))


def run(pieces, hold_all=False):
    sniffer = Sniffer(hold_all)
    released = [sniffer.feed(p) for p in pieces]
    released.append(sniffer.finish())
    return released, sniffer.held


def pieces_of(text, size):
    return [text[i:i + size] for i in range(0, len(text), size)]


@pytest.mark.parametrize("size", [1, 3, 1000, 5000])
@pytest.mark.parametrize(
    "reply, released, held",
    [
        ("Hello there, all fine.", "Hello there, all fine.", ""),
        (CALL, "", CALL),
        ("  \n" + CALL, "", CALL),
        ('{"name": "f", "arguments": {}}', "", '{"name": "f", "arguments": {}}'),
        ('[{"name": "f"}]', "", '[{"name": "f"}]'),
        ('```json\n{"name": "f"}\n```', "", '```json\n{"name": "f"}\n```'),
        ("Checking.\n\n" + CALL, "Checking.", CALL),
        ("Code:\n```python\nprint(1)\n```\nDone.", "Code:\n```python\nprint(1)\n```\nDone.", ""),
        ("a <b> and [x] and {y} mid-line", "a <b> and [x] and {y} mid-line", ""),
        ("[link](http://x) first", "[link](http://x) first", ""),
        ("ends with <tool_ca", "ends with <tool_ca", ""),
        # Long replies: released text leaves the sniffer's buffer, the meaning stays.
        (PROSE + "Done.", PROSE + "Done.", ""),
        (PROSE + "  \t" + CALL, PROSE.rstrip(), CALL),  # a call at a line's start, past released text
        (PROSE + '  {"name": "f", "arguments": {}}', PROSE.rstrip(), '{"name": "f", "arguments": {}}'),
        (PROSE + 'so {"name": "f"}', PROSE + 'so {"name": "f"}', ""),  # mid-line JSON is text
        (PROSE.rstrip("\n") + ' {"name": "f"}', PROSE.rstrip("\n") + ' {"name": "f"}', ""),
    ],
)
def test_text_is_released_and_possible_calls_held(reply, released, held, size):
    out, kept = run(pieces_of(reply, size))
    assert "".join(out) == released
    assert kept == held


def test_plain_text_is_released_as_it_comes():
    sniffer = Sniffer()
    assert sniffer.feed("Hello ") == "Hello"
    assert sniffer.feed("world") == " world"
    assert sniffer.feed(" <tool") == ""  # a possible tag: held until it is decided
    assert sniffer.feed("s> and more") == " <tools> and more"


def test_hold_all_releases_nothing():
    out, held = run(["Just ", "text"], hold_all=True)
    assert "".join(out) == "" and held == "Just text"


def test_the_buffer_stays_small_however_long_the_reply():
    # Appending to one growing string copied the whole reply on every piece (quadratic); released
    # text now leaves the buffer and a held call's pieces are only listed.
    sniffer = Sniffer()
    released = []
    for piece in pieces_of(PROSE * 10 + CALL * 100, 5):
        released.append(sniffer.feed(piece))
        assert len(sniffer._buffer) <= 4096 + 5
    released.append(sniffer.finish())
    assert "".join(released) == sniffer.released == (PROSE * 10).rstrip()
    assert sniffer.held == CALL * 100
    assert sniffer.text == PROSE * 10 + CALL * 100
    assert sniffer.unreleased == "\n" + CALL * 100
