"""OpenAI's rate-limit header formats."""
import pytest

from quotas.counters import Outcome, State, Subject
from quotas.rate_headers import duration, headers, retry_after


@pytest.mark.parametrize("ms, text", [(0, "0ms"), (17, "17ms"), (999, "999ms"), (1000, "1s"), (8640, "8.64s"),
                                      (59_764, "59.764s"), (60_000, "1m0s"), (360_000, "6m0s"),
                                      (86_399_000, "23h59m59s"), (3_723_500, "1h2m3.5s"), (-5, "0ms")])
def test_durations_are_written_as_openai_writes_them(ms, text):
    assert duration(ms) == text


@pytest.mark.parametrize("ms, seconds", [(0, "1"), (1, "1"), (999, "1"), (1000, "1"), (1001, "2"), (59_764, "60")])
def test_retry_after_rounds_up_to_whole_seconds_and_keeps_the_milliseconds(ms, seconds):
    assert retry_after(ms) == {"Retry-After": seconds, "retry-after-ms": str(max(1, ms))}


def test_the_subject_closest_to_its_limit_speaks_for_each_dimension():
    subjects = [Subject("ip:1.2.3.4", 100, 1000), Subject("key:ab", 10, 50_000)]
    outcome = Outcome(True, [State(requests=5, tokens=900, reset_ms=1500), State(requests=8, tokens=900, reset_ms=30_000)])
    assert headers(subjects, outcome) == {
        "x-ratelimit-limit-requests": "10", "x-ratelimit-remaining-requests": "2", "x-ratelimit-reset-requests": "30s",
        "x-ratelimit-limit-tokens": "1000", "x-ratelimit-remaining-tokens": "100", "x-ratelimit-reset-tokens": "1.5s",
    }


def test_unlimited_dimensions_send_no_headers():
    assert headers([Subject("ip:1.2.3.4", 0, 0)], Outcome(True, [State()])) == {}
