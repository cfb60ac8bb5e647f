"""Streaming: the sniffer releases text at once and holds back only what may be a tool call."""
import pytest

from api.tool_emulation.sniff import Sniffer

CALL = '<tool_call>{"name": "f", "arguments": {}}</tool_call>'


def run(pieces, hold_all=False):
    sniffer = Sniffer(hold_all)
    released = [sniffer.feed(p) for p in pieces]
    released.append(sniffer.finish())
    return released, sniffer.held


def pieces_of(text, size):
    return [text[i:i + size] for i in range(0, len(text), size)]


@pytest.mark.parametrize("size", [1, 3, 1000])
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
