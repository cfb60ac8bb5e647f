"""The operator's side of a relay process in tests: its manage.py commands and its database."""
from __future__ import annotations

import sqlite3
import subprocess
import sys
import time
import uuid
from typing import Any, Callable

import httpx

from tests.relay_process import ROOT, RelayProcess


def manage(relay: RelayProcess, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run `manage.py …` with the relay's settings (so on the relay's database)."""
    result = subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=relay.env,
                            capture_output=True, text=True, timeout=60)
    if check and result.returncode != 0:
        raise AssertionError(f"manage.py {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result


def query(relay: RelayProcess, sql: str, params: tuple = ()) -> list[dict[str, Any]]:
    """Rows from the relay's own database (SQLite file or PostgreSQL), written with %s placeholders."""
    url = relay.env["DATABASE_URL"]
    if url.startswith("sqlite:///"):
        with sqlite3.connect(url[len("sqlite:///"):], timeout=10) as conn:
            conn.row_factory = sqlite3.Row
            return [dict(row) for row in conn.execute(sql.replace("%s", "?"), params)]
    import psycopg
    from psycopg.rows import dict_row

    with psycopg.connect(url, row_factory=dict_row) as conn:
        return list(conn.execute(sql, params))


def usage_of(relay: RelayProcess, fingerprint: str) -> list[dict[str, Any]]:
    return query(relay, "SELECT * FROM quotas_usagerecord WHERE key_fingerprint = %s ORDER BY time, id", (fingerprint,))


def wait_for_rows(fetch: Callable[[], list], count: int, timeout: float = 10.0) -> list:
    """Poll until `fetch()` returns at least `count` rows (usage is written in the background)."""
    deadline = time.monotonic() + timeout
    rows = fetch()
    while len(rows) < count and time.monotonic() < deadline:
        time.sleep(0.05)  # polling with a deadline, not synchronising
        rows = fetch()
    return rows


def fresh_key() -> str:
    return f"sk-test-{uuid.uuid4().hex}"


def fresh_ip() -> str:
    """A documentation-range address no other test uses (for X-Forwarded-For from a trusted peer)."""
    n = uuid.uuid4().int
    return f"198.{18 + n % 2}.{(n >> 8) % 256}.{(n >> 16) % 254 + 1}"


def create_admin(relay: RelayProcess) -> tuple[str, str]:
    """A new superuser on the relay's database: (username, password)."""
    username, password = f"ops-{uuid.uuid4().hex[:8]}", uuid.uuid4().hex
    subprocess.run([sys.executable, "manage.py", "createsuperuser", "--noinput", "--username", username,
                    "--email", f"{username}@example.com"], cwd=ROOT, check=True, capture_output=True,
                   env={**relay.env, "DJANGO_SUPERUSER_PASSWORD": password}, timeout=60)
    return username, password


def csrf_token(page: str) -> str:
    marker = 'name="csrfmiddlewaretoken" value="'
    start = page.index(marker) + len(marker)
    return page[start:page.index('"', start)]


def admin_client(relay: RelayProcess) -> httpx.Client:
    """An HTTP client logged in to the relay's admin as a fresh superuser."""
    username, password = create_admin(relay)
    client = httpx.Client(base_url=relay.url, timeout=30)
    login = client.get("/admin/login/")
    response = client.post("/admin/login/", data={
        "username": username, "password": password, "csrfmiddlewaretoken": csrf_token(login.text), "next": "/admin/"})
    assert response.status_code == 302, response.text
    return client


def admin_post(client: httpx.Client, path: str, data: dict[str, str]) -> httpx.Response:
    """Submit an admin form the way a browser does (the CSRF token from the form's page)."""
    page = client.get(path)
    assert page.status_code == 200, page.text
    return client.post(path, data={**data, "csrfmiddlewaretoken": csrf_token(page.text)})
