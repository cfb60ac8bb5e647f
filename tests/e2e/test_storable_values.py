"""No client-sent value can stop the relay's storage: a NUL byte is stored (as U+FFFD) on PostgreSQL,
usage recording carries on for everyone, and a stored response with one can be fetched again."""
from __future__ import annotations

import os
import uuid

import httpx
import pytest

from core.identity import fingerprint
from tests.relay_operator import fresh_key, usage_of, wait_for_rows

PG_ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


def _admin(sql: str) -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=3) as conn:
        conn.execute(sql)


@pytest.fixture(scope="module")
def pg_relay(relay_factory, relay):
    """A relay on PostgreSQL: the shared-backend run's own, or one on a throwaway database."""
    if relay.env["DATABASE_URL"].startswith("postgres"):
        yield relay
        return
    name = f"relay_nul_{uuid.uuid4().hex[:8]}"
    try:
        _admin(f'CREATE DATABASE "{name}"')
    except Exception as error:  # noqa: BLE001
        pytest.skip(f"PostgreSQL does not answer at {PG_ADMIN_URL}: {error}")
    try:
        yield relay_factory(DATABASE_URL=f"{PG_ADMIN_URL.rsplit('/', 1)[0]}/{name}")
    finally:
        _admin(f'DROP DATABASE "{name}" WITH (FORCE)')


def chat(relay, key, model="gpt-4o-mini"):
    return httpx.post(f"{relay.url}/v1/chat/completions", headers={"Authorization": f"Bearer {key}"},
                      json={"model": model, "messages": [{"role": "user", "content": "hi"}]}, timeout=30)


def test_a_nul_byte_request_does_not_stop_the_next_ten_from_being_recorded(pg_relay, sim):
    key = fresh_key()
    assert chat(pg_relay, key, model="gpt\u0000x").status_code in (400, 404)
    for _ in range(10):
        assert chat(pg_relay, key).status_code == 200
    rows = wait_for_rows(lambda: usage_of(pg_relay, fingerprint(key)), 11, timeout=10)
    assert len(rows) == 11
    assert sorted(row["model"] for row in rows)[-1] == "gpt\ufffdx"


def test_a_responses_input_with_a_nul_byte_is_stored_and_can_be_fetched(pg_relay, sim):
    key = fresh_key()
    headers = {"Authorization": f"Bearer {key}"}
    created = httpx.post(f"{pg_relay.url}/v1/responses", headers=headers,
                         json={"model": "gpt-4o-mini", "input": "before\u0000after"}, timeout=30)
    assert created.status_code == 200
    response_id = created.json()["id"]
    fetched = httpx.get(f"{pg_relay.url}/v1/responses/{response_id}", headers=headers, timeout=30)
    assert fetched.status_code == 200, fetched.text
    items = httpx.get(f"{pg_relay.url}/v1/responses/{response_id}/input_items", headers=headers, timeout=30)
    assert items.status_code == 200
    assert "before\ufffdafter" in items.text or "before\\ufffdafter" in items.text
