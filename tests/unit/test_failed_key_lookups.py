"""A client spraying made-up relay keys is refused before its guesses reach the database."""
import asyncio
import os
import uuid

import pytest

from core.errors import AuthenticationFailed, RateLimited
from keys import callers, crypto
from keys.failed_lookups import FailedLookups
from keys.lookup import KeyRecord, RelayKeyLookup
from keys.shared_state import state

LIMIT = 20
ALICE_KEY = crypto.new_relay_key()
ALICE = KeyRecord(7, "alice", crypto.display_prefix(ALICE_KEY), "f" * 32, True, None, (), "")


class Database:
    """Stands in for SQL: counts how often it is asked."""

    def __init__(self) -> None:
        self.asked = 0

    def __call__(self, key_hash: str):
        self.asked += 1
        return ALICE if key_hash == crypto.hash_key(ALICE_KEY) else None


@pytest.fixture
def database(settings, monkeypatch):
    settings.REDIS_URL = ""
    settings.CACHE_KEY_PREFIX = f"unit-failed-{uuid.uuid4().hex}"
    settings.RELAY_AUTH_MODE = "managed"
    settings.RELAY_KEY_FAILED_LOOKUPS_PER_MINUTE = LIMIT
    db = Database()
    monkeypatch.setattr(callers, "lookup", RelayKeyLookup(loader=db))
    monkeypatch.setattr(callers, "failed_lookups", FailedLookups())
    monkeypatch.setattr(callers.pool, "entries", _no_entries)
    return db


async def _no_entries():
    return []


async def outcomes(keys: list[str], client: str) -> list[str]:
    found = []
    for key in keys:
        try:
            await callers.resolve_caller(key, client)
            found.append("ok")
        except (AuthenticationFailed, RateLimited) as error:
            found.append(str(error.status))
    return found


def test_300_made_up_keys_cost_at_most_the_limit_in_database_lookups(database, monkeypatch):
    writes = []
    real_set = state().set

    async def counting_set(name, value, ttl=None):
        writes.append(name)
        await real_set(name, value, ttl)

    monkeypatch.setattr(state(), "set", counting_set)
    spray = [crypto.new_relay_key() for _ in range(300)]
    statuses = asyncio.run(outcomes(spray, "203.0.113.9"))
    assert statuses == ["401"] * LIMIT + ["429"] * (300 - LIMIT)
    assert database.asked == LIMIT
    assert len(writes) == LIMIT  # the negative cache stops being written too


def test_a_refused_client_keeps_its_known_key_and_others_are_not_refused(database):
    async def scenario():
        await outcomes([ALICE_KEY], "203.0.113.9")  # alice's key is known to this process
        await outcomes([crypto.new_relay_key() for _ in range(LIMIT)], "203.0.113.9")
        return (await outcomes([ALICE_KEY, crypto.new_relay_key()], "203.0.113.9"),
                await outcomes([crypto.new_relay_key()], "198.51.100.7"))

    refused_client, other_client = asyncio.run(scenario())
    assert refused_client == ["ok", "429"]
    assert other_client == ["401"]


def test_the_refusal_says_when_it_ends_and_ends_then(database, monkeypatch):
    async def refusal():
        try:
            await callers.resolve_caller(crypto.new_relay_key(), "203.0.113.9")
        except RateLimited as error:
            return error
        return None

    async def scenario():
        await outcomes([crypto.new_relay_key() for _ in range(LIMIT)], "203.0.113.9")
        first = await refusal()
        monkeypatch.setattr(callers, "failed_lookups", FailedLookups(window=0.2))  # a short window
        await outcomes([crypto.new_relay_key() for _ in range(LIMIT)], "203.0.113.10")
        assert await refusal_for("203.0.113.10")
        deadline = asyncio.get_running_loop().time() + 5
        while await refusal_for("203.0.113.10"):
            assert asyncio.get_running_loop().time() < deadline, "the refusal did not end with its window"
            await asyncio.sleep(0.05)  # polling the window's end with a deadline
        return first

    async def refusal_for(client: str) -> bool:
        return (await outcomes([crypto.new_relay_key()], client)) == ["429"]

    first = asyncio.run(scenario())
    assert first.code == "too_many_failed_key_lookups" and 1 <= int(first.headers["Retry-After"]) <= 60


@pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="the Redis store runs in the shared-backend suite")
def test_the_window_counter_in_redis_counts_and_expires(settings):
    settings.REDIS_URL, settings.CACHE_KEY_PREFIX = os.environ["REDIS_URL"], f"unit-failed-{uuid.uuid4().hex}"

    async def scenario():
        counts = [(await state().count_in_window("failed-lookups:w:c", 0.2))[0] for _ in range(3)]
        deadline = asyncio.get_running_loop().time() + 5
        while (await state().get_many(["failed-lookups:w:c"]))[0] is not None:
            assert asyncio.get_running_loop().time() < deadline
            await asyncio.sleep(0.05)  # polling the expiry with a deadline
        return counts

    assert asyncio.run(scenario()) == [1, 2, 3]


def test_a_concurrent_burst_of_made_up_keys_cannot_slip_past_the_limit(database):
    async def one(key: str) -> str:
        try:
            await callers.resolve_caller(key, "203.0.113.9")
        except (AuthenticationFailed, RateLimited) as error:
            return str(error.status)
        return "ok"

    async def burst():
        return await asyncio.gather(*(one(crypto.new_relay_key()) for _ in range(300)))

    statuses = asyncio.run(burst())
    assert sorted(statuses) == ["401"] * LIMIT + ["429"] * (300 - LIMIT)
    assert database.asked == LIMIT


def test_lookups_that_find_a_key_are_not_failures(database):
    assert asyncio.run(outcomes([ALICE_KEY] + [crypto.new_relay_key() for _ in range(LIMIT - 1)], "203.0.113.9")) == (
        ["ok"] + ["401"] * (LIMIT - 1))
    assert asyncio.run(outcomes([crypto.new_relay_key()], "203.0.113.9")) == ["401"]  # the limit-th failure


def test_a_lookup_that_names_no_client_is_never_refused(database):
    assert asyncio.run(outcomes([crypto.new_relay_key() for _ in range(LIMIT + 5)], "")) == ["401"] * (LIMIT + 5)
