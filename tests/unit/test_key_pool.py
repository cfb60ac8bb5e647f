"""The upstream key pool's order, cool-downs and failover, on the suite's shared state (memory or Redis)."""
import asyncio
import uuid
from email.utils import formatdate

import pytest

from core.errors import AuthenticationFailed, InvalidRequest, PermissionDenied, RateLimited, RelayError, UpstreamError
from api.translators.upstream_errors import upstream_error
from keys.pool import Pool, PoolEntry, PoolLease, failure_reason

A, B, C = (PoolEntry(i, label, f"fp-{label}", f"secret-{label}") for i, label in ((1, "a"), (2, "b"), (3, "c")))


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(autouse=True)
def isolated(settings):
    settings.CACHE_KEY_PREFIX = f"unit-pool-{uuid.uuid4().hex}"
    settings.UPSTREAM_KEY_COOLDOWN_SECONDS = 30
    settings.UPSTREAM_KEY_POLICY = "round_robin"
    settings.RELAY_KEY_CACHE_SECONDS = 60
    return settings


def make_pool(*entries: PoolEntry, clock: Clock | None = None) -> tuple[Pool, list[PoolEntry]]:
    current = list(entries)
    return Pool(loader=lambda: list(current), clock=clock or Clock()), current


async def labels(pool: Pool, n: int, clock: Clock | None = None) -> list[str]:
    picked = []
    for _ in range(n):
        picked.append((await pool.choose(set())).label)
        if clock:
            clock.now += 1
    return picked


def test_round_robin_walks_the_keys_in_id_order():
    pool, _ = make_pool(A, B, C)
    assert asyncio.run(labels(pool, 7)) == ["a", "b", "c", "a", "b", "c", "a"]


def test_round_robin_skips_a_cooling_key_until_its_cool_down_ends():
    clock = Clock()
    pool, _ = make_pool(A, B, C, clock=clock)

    async def scenario():
        await pool.cool_down(B, "rate_limited", 30)
        during = await labels(pool, 4)
        clock.now += 31
        after = await labels(pool, 3)
        return during, after

    during, after = asyncio.run(scenario())
    assert "b" not in during and after.count("b") == 1


def test_least_recently_used_takes_the_key_idle_longest(isolated):
    isolated.UPSTREAM_KEY_POLICY = "least_recently_used"
    clock = Clock()
    pool, current = make_pool(A, B, C, clock=clock)

    async def scenario():
        first = await labels(pool, 2, clock)
        current.remove(A)
        pool.mark_stale()
        return first + await labels(pool, 3, clock)

    assert asyncio.run(scenario()) == ["a", "b", "c", "b", "c"]


@pytest.mark.parametrize("status, body, reason", [
    (401, b'{"errorCode":"UNAUTHORIZED"}', "rejected"),
    (403, b"forbidden", "rejected"),
    (429, b'{"success":false,"error":{"code":"RATE_LIMITED"}}', "rate_limited"),
    (402, b'{"errorCode":"INSUFFICIENT_CREDITS","message":"Not enough credits"}', "no_credits"),
    (400, b'{"errorCode":"INSUFFICIENT_CREDITS","message":"Not enough credits"}', "no_credits"),
    (400, b'{"errorCode":"UNSUPPORTED_MODEL","message":"Model x is not supported"}', None),
    (500, b"oops", None),
])
def test_only_failures_of_the_key_itself_move_a_call_to_another_key(status, body, reason):
    assert failure_reason(upstream_error(status, {}, body)) == reason


def test_a_lease_fails_over_once_per_key_then_answers_503_with_retry_after():
    pool, _ = make_pool(A, B)
    lease = PoolLease(pool, ())

    async def scenario():
        first = await lease.acquire()
        second = await lease.failed(first, upstream_error(429, {"retry-after": "45"}, b""))
        with pytest.raises(RelayError) as exhausted:
            await lease.failed(second, AuthenticationFailed("no"))
        return first, second, exhausted.value

    first, second, error = asyncio.run(scenario())
    assert {first, second} == {"secret-a", "secret-b"}
    assert error.status == 503 and error.code == "upstream_keys_unavailable"
    assert 1 <= int(error.headers["Retry-After"]) <= 30  # the shorter of the two cool-downs
    assert "secret" not in error.message


def test_a_lease_keeps_other_errors_and_its_key():
    pool, _ = make_pool(A, B)
    lease = PoolLease(pool, ())

    async def scenario():
        key = await lease.acquire()
        for error in (InvalidRequest("bad prompt"), UpstreamError("down")):
            with pytest.raises(type(error)):
                await lease.failed(key, error)
        return key, await lease.acquire()

    key, again = asyncio.run(scenario())
    assert key == again


def test_a_rate_limit_cools_a_key_for_retry_after_when_longer():
    clock = Clock()
    pool, _ = make_pool(A, clock=clock)

    async def scenario():
        lease = PoolLease(pool, ())
        key = await lease.acquire()
        with pytest.raises(RelayError):
            await lease.failed(key, upstream_error(429, {"retry-after": "120"}, b""))
        return await pool.cooling(await pool.entries())

    assert asyncio.run(scenario()) == {1: clock.now + 120}


def test_an_empty_pool_asks_the_operator_for_a_key():
    pool, _ = make_pool()
    with pytest.raises(RelayError) as error:
        asyncio.run(PoolLease(pool, ()).acquire())
    assert error.value.status == 503 and error.value.code == "no_upstream_key"


def test_the_lease_refuses_a_model_the_relay_key_may_not_use():
    lease = PoolLease(make_pool(A)[0], ("gpt-4o-mini",))
    lease.authorize({"model": "gpt-4o-mini"})
    lease.authorize(None)  # an asset upload names no model
    with pytest.raises(PermissionDenied):
        lease.authorize({"model": "gpt-4o"})


def test_a_broken_shared_store_degrades_to_this_process(isolated):
    isolated.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens there
    clock = Clock()
    pool, _ = make_pool(A, B, C, clock=clock)

    async def scenario():
        await pool.cool_down(A, "rejected", 30)
        return await labels(pool, 4)

    assert asyncio.run(scenario()) == ["b", "c", "b", "c"]


def test_concurrent_calls_of_one_request_fail_over_together():
    pool, _ = make_pool(A, B, C)
    lease = PoolLease(pool, ())

    async def upload(outcomes: list[str]) -> str:
        key = await lease.acquire()
        if key == "secret-a":  # 1min.ai refuses key a for every concurrent upload
            key = await lease.failed(key, upstream_error(429, {}, b""))
        outcomes.append(key)
        return key

    async def scenario():
        outcomes: list[str] = []
        await asyncio.gather(*(upload(outcomes) for _ in range(3)))
        return outcomes, await pool.cooling(await pool.entries())

    outcomes, cooling = asyncio.run(scenario())
    assert len(outcomes) == 3 and len(set(outcomes)) == 1 and "secret-a" not in outcomes
    assert set(cooling) == {1}  # a cooled once, not once per upload


def rate_limited_until(when: float) -> RelayError:
    return RateLimited("1min.ai rate limit", headers={"Retry-After": formatdate(when, usegmt=True)})


async def cooled_after(pool: Pool, error: RelayError) -> dict[int, float]:
    lease = PoolLease(pool, ())
    key = await lease.acquire()
    try:
        await lease.failed(key, error)
    except RelayError:
        pass  # no key left
    return await pool.cooling(await pool.entries())


def test_a_retry_after_date_sets_the_cool_down():
    clock = Clock()
    pool, _ = make_pool(A, B, clock=clock)
    assert asyncio.run(cooled_after(pool, rate_limited_until(clock.now + 200))) == {1: clock.now + 200}


def test_cool_downs_are_capped_whatever_retry_after_asks(isolated):
    isolated.UPSTREAM_COOLDOWN_MAX_SECONDS = 300
    clock = Clock()
    pool, _ = make_pool(A, B, clock=clock)
    asked = upstream_error(429, {"retry-after": "3600"}, b"")
    assert asyncio.run(cooled_after(pool, asked)) == {1: clock.now + 300}


def test_one_refusal_of_the_only_key_rests_it_briefly_not_for_the_whole_cool_down(isolated):
    isolated.UPSTREAM_LAST_KEY_COOLDOWN_SECONDS = 5
    clock = Clock()
    pool, _ = make_pool(A, clock=clock)
    assert asyncio.run(cooled_after(pool, upstream_error(401, {}, b""))) == {1: clock.now + 5}


def test_a_refused_key_with_others_left_cools_for_the_whole_cool_down(isolated):
    isolated.UPSTREAM_LAST_KEY_COOLDOWN_SECONDS = 5
    clock = Clock()
    pool, _ = make_pool(A, B, clock=clock)
    assert asyncio.run(cooled_after(pool, upstream_error(401, {}, b""))) == {1: clock.now + 30}
