"""limits.admit in process: reservations, refusals that can never succeed, access rules and settlement."""
import asyncio

import pytest

from core.call_context import CallContext
from core.errors import PayloadTooLarge, PermissionDenied, RateLimited, RelayError
from quotas import limits
from quotas.counters import MemoryCounters
from quotas.policies import Limits, PolicyTable
from quotas.token_estimate import Estimate


def table(rpm=10, tpm=1000, daily=0, models=None, **extra) -> PolicyTable:
    return PolicyTable(Limits("test", rpm, tpm, daily, 0, models), **extra)


@pytest.fixture(autouse=True)
def fresh_counters(settings):
    settings.REDIS_URL = ""
    settings.RATE_LIMITS_ENABLED = True
    settings.RATE_LIMIT_DEFAULT_OUTPUT_TOKENS = 500
    limits.limiter.memory = MemoryCounters()


def call(key="ab" * 16) -> CallContext:
    return CallContext(endpoint="chat.completions", client_ip="192.0.2.1", key_fingerprint=key)


def admit(context, estimate, policy_table):
    return asyncio.run(limits.admit(context, estimate, policy_table))


def test_an_uncapped_answer_reserves_the_default_allowance():
    admission = admit(call(), Estimate("m", 100, None, True), table())
    assert admission.headers["x-ratelimit-remaining-tokens"] == str(1000 - 600)


def test_the_default_allowance_never_makes_a_fitting_prompt_unservable():
    admission = admit(call(), Estimate("m", 900, None, True), table())
    assert admission.headers["x-ratelimit-remaining-tokens"] == "0"


@pytest.mark.parametrize("estimate, param", [(Estimate("m", 1001, None, True), "messages"),
                                             (Estimate("m", 10, 991, True), "max_tokens")])
def test_a_call_larger_than_the_limit_is_refused_as_too_large(estimate, param):
    with pytest.raises(PayloadTooLarge) as refused:
        admit(call(), estimate, table())
    assert refused.value.param == param and refused.value.status == 413


def test_a_call_larger_than_a_budget_is_refused_as_too_large():
    with pytest.raises(PayloadTooLarge) as refused:
        admit(call(), Estimate("m", 10, 300, True), table(tpm=0, daily=200))
    assert "tokens per day" in refused.value.message


def test_a_keyless_call_counts_as_a_request_but_reserves_no_tokens():
    admission = admit(call(key=None), Estimate("m", 100, 100, True), table())
    assert (admission.headers["x-ratelimit-remaining-requests"], admission.headers["x-ratelimit-remaining-tokens"]) == ("9", "1000")


def test_the_settlement_runs_when_the_call_finishes():
    context = call()
    admit(context, Estimate("m", 100, 400, True), table())
    context.note_usage(100, 20)
    asyncio.run(context.finish())
    assert admit(call(), Estimate("m", 0, 1, True), table()).headers["x-ratelimit-remaining-tokens"] == str(1000 - 120 - 1)


def test_blocked_clients_and_disallowed_models_are_refused_before_counting():
    blocked = table(blocked_keys={"ab" * 16: "unpaid"})
    with pytest.raises(PermissionDenied) as refused:
        admit(call(), Estimate("m"), blocked)
    assert refused.value.code == "client_blocked" and "unpaid" in refused.value.message
    with pytest.raises(PermissionDenied) as refused:
        admit(call(), Estimate("o3"), table(models=frozenset({"gpt-4o-mini"})))
    assert refused.value.code == "model_not_allowed"
    assert admit(call(), Estimate("m"), table()).headers["x-ratelimit-remaining-requests"] == "9"


def test_the_429_names_the_limit_and_when_to_come_back():
    for _ in range(2):
        admit(call(), Estimate("m"), table(rpm=2))
    with pytest.raises(RateLimited) as refused:
        admit(call(), Estimate("m"), table(rpm=2))
    assert refused.value.type == "requests" and 59 <= int(refused.value.headers["Retry-After"]) <= 60


@pytest.mark.django_db(transaction=True)  # the budget's earlier use is read from the roll-ups
def test_an_exhausted_budget_is_insufficient_quota_until_the_period_ends():
    admit(call(), Estimate("m", 150, 0, True), table(tpm=0, daily=200))
    with pytest.raises(RelayError) as refused:
        admit(call(), Estimate("m", 100, 0, True), table(tpm=0, daily=200))
    assert (refused.value.status, refused.value.type, refused.value.code) == (429, "insufficient_quota", "insufficient_quota")
    assert 1 <= int(refused.value.headers["Retry-After"]) <= 86400


def test_when_earlier_budget_use_cannot_be_read_the_fail_mode_decides(settings):
    settings.RATE_LIMIT_FAIL_MODE = "closed"
    with pytest.raises(RelayError) as refused:  # no database access in this test: the read fails
        admit(call(), Estimate("m", 10, 0, True), table(daily=200))
    assert (refused.value.status, refused.value.code) == (503, "rate_limiter_unavailable")
    settings.RATE_LIMIT_FAIL_MODE = "open"
    context = call()
    assert admit(context, Estimate("m", 10, 0, True), table(daily=200)).headers == {}
    assert context.extra["unmetered"] is True
