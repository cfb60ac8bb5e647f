"""Local stop sequences and max_tokens, whole and streamed."""
import pytest

from core import token_counting
from api.output_limits import OutputLimiter, limit_text


@pytest.mark.parametrize(
    "text, stop, max_tokens, expected, reason",
    [
        ("hello world", [], None, "hello world", None),
        ("hello STOP world", ["STOP"], None, "hello ", "stop"),
        ("a b c", ["b", "a"], None, "", "stop"),
        ("no stop here", ["zzz"], None, "no stop here", None),
    ],
)
def test_it_cuts_at_the_first_stop_sequence(text, stop, max_tokens, expected, reason):
    assert limit_text(text, stop, max_tokens, "gpt-4o") == (expected, reason)


def test_it_truncates_to_max_tokens_and_says_length():
    text = "one two three four five six seven eight nine ten"
    out, reason = limit_text(text, [], 3, "gpt-4o")
    assert reason == "length"
    assert token_counting.count_text(out, "gpt-4o") == 3
    assert text.startswith(out)


def test_it_finds_a_stop_sequence_split_across_deltas():
    limiter = OutputLimiter(["END!"], None, "gpt-4o")
    sent = "".join(limiter.feed(d) for d in ["abc E", "N", "D", "! tail"]) + limiter.flush()
    assert sent == "abc "
    assert limiter.finish_reason == "stop"


def test_streamed_max_tokens_never_sends_more_than_allowed():
    limiter = OutputLimiter([], 4, "gpt-4o")
    sent = ""
    for delta in ["Once ", "upon ", "a ", "time ", "there ", "was"]:
        sent += limiter.feed(delta)
        if limiter.done:
            break
    assert limiter.finish_reason == "length"
    assert token_counting.count_text(sent, "gpt-4o") == 4
