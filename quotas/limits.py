"""Admission of one /v1/ call: block list, allowed models, rate limits and budgets, then settlement.

`admit` runs before the view does any work. It counts the call against its client IP and, when
it carries one, its API key fingerprint, reserving the tokens it may use; when the call ends
(a stream however it ends), the reservation is settled to the real count.
"""
from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from django.conf import settings

from core.call_context import CallContext
from core.errors import PayloadTooLarge, PermissionDenied, RateLimited, RelayError
from quotas import rate_headers, shared_redis
from quotas.client_identity import client_group
from quotas.counters import Budget, Counters, Denial, MemoryCounters, Outcome, Subject
from quotas.graceful_shutdown import flush_at_graceful_shutdown
from quotas.policies import Limits, PolicyTable, book
from quotas.token_estimate import Estimate

logger = logging.getLogger(__name__)


@dataclass
class Admission:
    headers: dict[str, str] = field(default_factory=dict)


class LimiterState:
    """Which counters this process uses, and how it fares when Redis is down."""

    def __init__(self) -> None:
        self.memory = MemoryCounters()
        self.redis: Counters | None = None
        self.unmetered = 0  # calls let through without a check (fail-open), since start
        self._last_warning = 0.0
        self._last_busy_warning = 0.0

    def counters(self) -> Counters:
        if not shared_redis.enabled():
            return self.memory
        if self.redis is None:
            from quotas.counters_redis import RedisCounters

            self.redis = RedisCounters()
            flush_at_graceful_shutdown(self.redis.flush)  # settlements still waiting for an admission
        return self.redis

    def note_busy(self, error: BaseException) -> None:
        now = time.monotonic()
        if now - self._last_busy_warning > 10:
            self._last_busy_warning = now
            logger.warning("limits could not be checked in time (%s) while Redis answers: this process is "
                           "saturated; calls refused with 503 rate_limiter_busy", error)

    def note_outage(self, error: BaseException) -> None:
        if settings.RATE_LIMIT_FAIL_MODE == "open":
            self.unmetered += 1
        now = time.monotonic()
        if now - self._last_warning > 10:  # one line per ten seconds, not one per request
            self._last_warning = now
            logger.warning(
                "limits could not be checked (%s); failing %s; %d calls let through unmetered so far",
                type(error).__name__ or "error", settings.RATE_LIMIT_FAIL_MODE, self.unmetered,
            )


limiter = LimiterState()


def _period_ends(now: datetime) -> tuple[datetime, datetime]:
    day_end = datetime(now.year, now.month, now.day, tzinfo=timezone.utc) + timedelta(days=1)
    month_end = datetime(now.year + now.month // 12, now.month % 12 + 1, 1, tzinfo=timezone.utc)
    return day_end, month_end


def _subject(name: str, limits: Limits, now: datetime) -> Subject:
    subject = Subject(name, limits.requests_per_minute, limits.tokens_per_minute)
    if not (limits.daily_tokens or limits.monthly_tokens):
        return subject
    day_end, month_end = _period_ends(now)
    for period, limit, end in (("d", limits.daily_tokens, day_end), ("m", limits.monthly_tokens, month_end)):
        if limit:
            label = now.strftime("%Y%m%d" if period == "d" else "%Y%m")
            ttl_ms = int((end - now).total_seconds() * 1000) + 3_600_000
            subject.budgets.append(Budget(f"{name}:{period}:{label}", limit, ttl_ms))
    return subject


def _cost(estimate: Estimate, limits: list[Limits], keyed: bool) -> int:
    """Tokens to reserve; a request that could never fit is refused outright (413), not a 429."""
    if not keyed:
        return 0  # refused with 401 before it does anything
    caps = [(c, name) for lim in limits for c, name in (
        (lim.tokens_per_minute, "tokens per minute"), (lim.daily_tokens, "tokens per day"),
        (lim.monthly_tokens, "tokens per month")) if c]
    smallest, what = min(caps) if caps else (0, "")
    output = estimate.max_output_tokens or 0
    needed = estimate.prompt_tokens + output
    if smallest and needed > smallest:
        asked = f" plus up to {output} output tokens (max_tokens)" if output else ""
        raise PayloadTooLarge(
            f"This request needs about {estimate.prompt_tokens} prompt tokens{asked}, more than this "
            f"client's limit of {smallest} {what}; it can never be served. Shorten the input"
            f"{' or lower max_tokens' if output else ''}.",
            param="max_tokens" if output and estimate.prompt_tokens <= smallest else "messages",
            code="request_too_large",
        )
    if estimate.max_output_tokens is None and estimate.generates_text:
        needed += settings.RATE_LIMIT_DEFAULT_OUTPUT_TOKENS
        if smallest:
            needed = min(needed, smallest)  # an uncapped answer may still use all that is left
    return needed


def _who(subject: Subject) -> str:
    kind, _, value = subject.name.partition(":")
    return f"client {value}" if kind == "ip" else f"API key {value[:8]}…"


def _refusal(subjects: list[Subject], outcome: Outcome, denial: Denial, cost: int, now: datetime) -> RelayError:
    subject = subjects[denial.subject]
    headers = rate_headers.headers(subjects, outcome)
    if denial.kind == "budget":
        budget = subject.budgets[denial.budget]
        daily = ":d:" in budget.key
        end = _period_ends(now)[0 if daily else 1]
        headers.update(rate_headers.retry_after(int((end - now).total_seconds() * 1000)))
        return RelayError(
            f"You exceeded your current quota: {_who(subject)} has used {denial.used} of its "
            f"{denial.limit} tokens this {'day' if daily else 'month'} and this request needs up "
            f"to {cost}. The budget renews at {end:%Y-%m-%d %H:%M} UTC.",
            status=429, type="insufficient_quota", code="insufficient_quota", headers=headers,
        )
    headers.update(rate_headers.retry_after(denial.retry_ms))
    unit = "requests per min (RPM)" if denial.kind == "requests" else "tokens per min (TPM)"
    requested = 1 if denial.kind == "requests" else cost
    return RateLimited(
        f"Rate limit reached for {_who(subject)} on {unit}: Limit {denial.limit}, Used {denial.used}, "
        f"Requested {requested}. Please try again in {rate_headers.duration(denial.retry_ms)}.",
        type=denial.kind, headers=headers,
    )


def _check_access(call: CallContext, estimate: Estimate, table: PolicyTable, limits: list[Limits]) -> None:
    reason = table.block_reason(call.client_ip, call.key_fingerprint)
    if reason is not None:
        raise PermissionDenied(
            "Requests from this client are blocked by the relay's operator."
            + (f" Reason: {reason}" if reason else ""),
            code="client_blocked",
        )
    if estimate.model and not all(lim.allows(estimate.model) for lim in limits):
        raise PermissionDenied(
            f"This client may not use the model `{estimate.model}`; the relay's operator allows "
            "other models for it.",
            param="model", code="model_not_allowed",
        )


class UsageUnavailable(Exception):
    """The database could not say how much of a budget was used before."""


async def _seed(subjects: list[Subject], needed: list[tuple[int, int]]) -> None:
    from quotas.usage import tokens_used_since

    for i, j in needed:
        budget = subjects[i].budgets[j]
        period = budget.key.rsplit(":", 2)
        since = datetime.strptime(period[2], "%Y%m%d" if period[1] == "d" else "%Y%m").date()
        try:
            budget.seed = await tokens_used_since(subjects[i].name, since)
        except Exception as error:  # noqa: BLE001 - a guess would miscount the budget all period
            raise UsageUnavailable(str(error)) from error


async def _count(call: CallContext, request_id: str, subjects: list[Subject], cost: int) -> Outcome | None:
    """The counters' verdict, or None when the shared store is down and the mode is fail-open."""
    counters = limiter.counters()
    if counters is not limiter.memory and not shared_redis.reachable():
        return _outage(call, ConnectionError("Redis failed moments ago"))
    try:
        outcome = await counters.admit(request_id, subjects, cost)
        if outcome.needs_seed:
            await _seed(subjects, outcome.needs_seed)
            outcome = await counters.admit(request_id, subjects, cost)
        return outcome
    except shared_redis.Unavailable as error:
        return _outage(call, error.__cause__ or error)
    except shared_redis.Busy as error:
        raise _busy(error) from None
    except UsageUnavailable as error:
        logger.error("budget counts unavailable: %s", error)
        return _outage(call, error)


def _busy(error: shared_redis.Busy) -> RelayError:
    """Redis is up but this process could not reach it in time: neither fail mode applies (the
    limits are not down), so the call is refused as the client's own burst would be."""
    limiter.note_busy(error)
    return RelayError(
        "The relay is too busy to check rate limits in time, so it refuses this request. "
        "Retry after a short wait.",
        status=503, type="server_error", code="rate_limiter_busy", headers=rate_headers.retry_after(1000),
    )


def _outage(call: CallContext, error: BaseException) -> None:
    limiter.note_outage(error)
    if settings.RATE_LIMIT_FAIL_MODE == "closed":
        raise RelayError(
            "The relay cannot check rate limits right now, so it refuses requests. Try again shortly.",
            status=503, type="server_error", code="rate_limiter_unavailable",
            headers=rate_headers.retry_after(1000),
        )
    call.extra["unmetered"] = True
    return None


async def admit(call: CallContext, estimate: Estimate, table: PolicyTable | None = None) -> Admission:
    """Let the call in (and arrange its settlement) or raise the error the client should see."""
    if not settings.RATE_LIMITS_ENABLED:
        return Admission()
    if table is None:
        table = await book.current()
    limits = [table.for_ip(call.client_ip)]
    if call.key_fingerprint:
        limits.append(table.for_key(call.key_fingerprint, call.extra.get("policy", "")))
    _check_access(call, estimate, table, limits)
    cost = _cost(estimate, limits, keyed=bool(call.key_fingerprint))
    now = datetime.now(timezone.utc)
    subjects = [_subject(f"ip:{client_group(call.client_ip)}", limits[0], now)]
    if call.key_fingerprint:
        subjects.append(_subject(f"key:{call.key_fingerprint}", limits[1], now))
    request_id = os.urandom(12).hex()
    outcome = await _count(call, request_id, subjects, cost)
    if outcome is None:
        return Admission()
    if not outcome.admitted:
        raise _refusal(subjects, outcome, outcome.denial, cost, now)

    async def settle(finished: CallContext) -> None:
        actual = finished.prompt_tokens + finished.completion_tokens
        try:
            await limiter.counters().settle(request_id, subjects, cost, actual)
        except (shared_redis.Unavailable, shared_redis.Busy):
            pass  # the reservation simply ages out of the window

    call.on_finish(settle)
    return Admission(rate_headers.headers(subjects, outcome))
