"""Relay key lookups: SQL once, then process memory and the shared store, retired by a change."""
import asyncio
import uuid

import pytest

from keys.lookup import KeyRecord, RelayKeyLookup

ALICE = KeyRecord(7, "alice", "rk-abcdef", "f" * 32, True, None, ("gpt-4o-mini",), "")


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class Database:
    """Stands in for SQL: counts how often it is asked."""

    def __init__(self, rows: dict) -> None:
        self.rows, self.asked = rows, 0

    def __call__(self, key_hash: str):
        self.asked += 1
        return self.rows.get(key_hash)


@pytest.fixture(autouse=True)
def isolated(settings):
    settings.CACHE_KEY_PREFIX = f"unit-lookup-{uuid.uuid4().hex}"
    settings.RELAY_KEY_CACHE_SECONDS = 60


def test_a_key_is_read_from_sql_once_then_from_memory():
    db = Database({"h1": ALICE})
    lookup = RelayKeyLookup(loader=db)

    async def scenario():
        return [await lookup.find("h1", "1") for _ in range(3)]

    assert asyncio.run(scenario()) == [ALICE] * 3 and db.asked == 1


def test_unknown_keys_are_remembered_too():
    db = Database({})
    lookup = RelayKeyLookup(loader=db)
    assert asyncio.run(lookup.find("nope", "1")) is None
    assert asyncio.run(lookup.find("nope", "1")) is None
    assert db.asked == 1


def test_another_process_finds_the_answer_in_the_shared_store():
    db = Database({"h1": ALICE})
    first, second = RelayKeyLookup(loader=db), RelayKeyLookup(loader=db)
    asyncio.run(first.find("h1", "1"))
    assert asyncio.run(second.find("h1", "1")) == ALICE
    assert db.asked == 1


def test_a_new_change_counter_retires_shared_answers_and_clear_retires_memory():
    db = Database({"h1": ALICE})
    first, second = RelayKeyLookup(loader=db), RelayKeyLookup(loader=db)
    asyncio.run(first.find("h1", "1"))
    asyncio.run(second.find("h1", "2"))
    assert db.asked == 2
    first.clear()
    asyncio.run(first.find("h1", "2"))  # shared under the new counter by `second`
    assert db.asked == 2


def test_memory_expires_after_relay_key_cache_seconds():
    clock = Clock()
    db = Database({"h1": ALICE})
    lookup = RelayKeyLookup(loader=db, clock=clock)
    asyncio.run(lookup.find("h1", "1"))
    clock.now += 61
    lookup_version_moved = "2"  # the shared copy is also gone once the counter moved
    asyncio.run(lookup.find("h1", lookup_version_moved))
    assert db.asked == 2


def test_an_answer_read_before_a_change_is_not_kept():
    db = Database({"h1": ALICE})
    lookup = RelayKeyLookup(loader=lambda h: (lookup.clear(), db(h))[1])  # a change lands mid-read
    asyncio.run(lookup.find("h1", "1"))
    asyncio.run(lookup.find("h1", "9"))
    assert db.asked == 2


def test_a_broken_shared_store_falls_back_to_sql(settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    db = Database({"h1": ALICE})
    assert asyncio.run(RelayKeyLookup(loader=db).find("h1", "1")) == ALICE
