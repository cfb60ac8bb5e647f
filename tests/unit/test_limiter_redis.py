"""The limiter's Redis calls: a busy process is not an outage; refusals and silent waits are."""
import asyncio

import pytest
import redis

from quotas import shared_redis


@pytest.fixture(autouse=True)
def closed_breaker(monkeypatch):
    monkeypatch.setattr(shared_redis, "_down_until", 0.0)
    monkeypatch.setattr(shared_redis, "_tripped", False)
    monkeypatch.setattr(shared_redis, "_last_success", float("-inf"))


async def ok():
    return "PONG"


def timing_out(error: BaseException, others_succeed: bool):
    async def command():
        if others_succeed:
            await shared_redis.run(ok)  # another caller's call completes while this one waits
        raise error
    return command


def pool_wait_ran_out() -> redis.exceptions.ConnectionError:
    try:
        raise redis.exceptions.ConnectionError("No connection available.") from asyncio.TimeoutError()
    except redis.exceptions.ConnectionError as error:
        return error


@pytest.mark.parametrize("error", [redis.exceptions.TimeoutError("Timeout reading from socket"),
                                   asyncio.TimeoutError(), pool_wait_ran_out()])
def test_a_wait_that_runs_out_while_redis_answers_others_is_busy_and_trips_nothing(error):
    with pytest.raises(shared_redis.Busy):
        asyncio.run(shared_redis.run(timing_out(error, others_succeed=True)))
    assert shared_redis.reachable()


@pytest.mark.parametrize("error", [redis.exceptions.TimeoutError("Timeout connecting"), pool_wait_ran_out()])
def test_a_wait_that_runs_out_with_nothing_answering_is_an_outage(error):
    with pytest.raises(shared_redis.Unavailable):
        asyncio.run(shared_redis.run(timing_out(error, others_succeed=False)))
    assert not shared_redis.reachable()


def test_a_refused_connection_is_an_outage_even_while_others_succeed():
    refused = redis.exceptions.ConnectionError("Error 111 connecting to 127.0.0.1:1. Connection refused.")
    with pytest.raises(shared_redis.Unavailable):
        asyncio.run(shared_redis.run(timing_out(refused, others_succeed=True)))
    assert not shared_redis.reachable()


def test_after_an_outage_one_caller_probes_while_the_others_keep_skipping(monkeypatch):
    now = [1000.0]
    monkeypatch.setattr(shared_redis.time, "monotonic", lambda: now[0])
    shared_redis.trip()
    assert not shared_redis.reachable()
    now[0] += shared_redis.RETRY_SECONDS
    assert shared_redis.reachable()  # the prober
    assert not shared_redis.reachable()  # everyone else, while it tries
    asyncio.run(shared_redis.run(ok))
    assert shared_redis.reachable() and shared_redis.reachable()


def test_the_pool_waits_for_a_connection_instead_of_failing(settings):
    settings.REDIS_URL, settings.REDIS_SENTINELS = "redis://127.0.0.1:6379/0", []
    settings.RATE_LIMIT_REDIS_MAX_CONNECTIONS, settings.RATE_LIMIT_REDIS_TIMEOUT = 3, 2.5

    async def pool():
        return shared_redis.client().connection_pool

    found = asyncio.run(pool())
    assert isinstance(found, redis.asyncio.BlockingConnectionPool)
    assert (found.max_connections, found.timeout) == (3, 2.5)
