"""OpenAI's rate-limit headers: `x-ratelimit-{limit,remaining,reset}-{requests,tokens}` and Retry-After."""
from __future__ import annotations

import math

from quotas.counters import Outcome, State, Subject


def duration(ms: int) -> str:
    """A wait as OpenAI writes it (Go's duration format): "120ms", "1s", "8.64s", "6m0s", "1h2m3s"."""
    ms = max(0, int(ms))
    if ms < 1000:
        return f"{ms}ms"
    hours, rest = divmod(ms, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    seconds = f"{rest / 1000:.3f}".rstrip("0").rstrip(".")
    text = f"{seconds}s"
    if hours or minutes:
        text = f"{minutes}m{text}"
    if hours:
        text = f"{hours}h{text}"
    return text


def retry_after(ms: int) -> dict[str, str]:
    """Retry-After in whole seconds (never 0), and the exact wait the OpenAI SDKs also read."""
    ms = max(1, int(ms))
    return {"Retry-After": str(max(1, math.ceil(ms / 1000))), "retry-after-ms": str(ms)}


def _tightest(subjects: list[Subject], states: list[State], limit_of, used_of) -> tuple[int, int, int] | None:
    best = None
    for subject, state in zip(subjects, states):
        limit = limit_of(subject)
        if limit <= 0:
            continue
        remaining = max(0, limit - used_of(state))
        if best is None or remaining < best[1]:
            best = (limit, remaining, state.reset_ms)
    return best


def headers(subjects: list[Subject], outcome: Outcome) -> dict[str, str]:
    """For each dimension, the subject (IP or key) closest to its limit speaks."""
    found: dict[str, str] = {}
    for name, limit_of, used_of in (
        ("requests", lambda s: s.requests_per_minute, lambda st: st.requests),
        ("tokens", lambda s: s.tokens_per_minute, lambda st: st.tokens),
    ):
        tightest = _tightest(subjects, outcome.states, limit_of, used_of)
        if tightest is not None:
            limit, remaining, reset_ms = tightest
            found[f"x-ratelimit-limit-{name}"] = str(limit)
            found[f"x-ratelimit-remaining-{name}"] = str(remaining)
            found[f"x-ratelimit-reset-{name}"] = duration(reset_ms)
    return found
