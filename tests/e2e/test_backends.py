"""The suite really runs on the backends it claims: shared state lands in Redis and PostgreSQL."""
import os

import httpx
import pytest
from django.db import connection

from tests.conftest import TEST_KEY

shared = pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="embedded-backend run")


@shared
def test_the_model_list_is_shared_through_redis(relay, sim):
    import redis

    assert httpx.get(f"{relay.url}/v1/models", headers={"Authorization": f"Bearer {TEST_KEY}"}).status_code == 200
    keys = redis.Redis.from_url(os.environ["REDIS_URL"]).keys(f"{relay.env['CACHE_KEY_PREFIX']}:*model-registry*")
    assert keys


@shared
@pytest.mark.django_db
def test_the_database_is_postgresql():
    assert connection.vendor == "postgresql"
    assert relay_db_is_postgres()


def relay_db_is_postgres() -> bool:
    return os.environ["RELAY_TEST_E2E_DATABASE_URL"].startswith("postgres")


@pytest.mark.skipif(bool(os.environ.get("REDIS_URL")), reason="shared-backend run")
@pytest.mark.django_db
def test_the_embedded_run_uses_sqlite(relay):
    assert connection.vendor == "sqlite"
    assert relay.env["DATABASE_URL"].startswith("sqlite")
    assert "REDIS_URL" not in relay.env
