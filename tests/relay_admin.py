"""An operator driving a relay process: its Django admin over HTTP, its manage.py, its database."""
from __future__ import annotations

import html
import re
import sqlite3
import subprocess
import sys
import uuid
from datetime import datetime, timezone

import httpx

from tests.relay_process import ROOT, RelayProcess

PASSWORD = "operator-password-1234"
ENCRYPTION_KEY = "q3kAzSmMmM0cW0o3vOQ3CeW6l-p3DdGx3bF7dZk2cXU="  # a Fernet key for tests only


def managed_env(**overrides: str) -> dict[str, str]:
    """Settings of a relay serving relay keys from its pool, tuned so tests see effects fast."""
    return {
        "RELAY_AUTH_MODE": "managed",
        "RELAY_ENCRYPTION_KEY": ENCRYPTION_KEY,
        "RELAY_KEY_ACTIVITY_FLUSH_SECONDS": "0",
        "UPSTREAM_KEY_COOLDOWN_SECONDS": "60",
        # Every key test's calls come from 127.0.0.1: the default limits must not get in their way
        # (a relay key's own policy still applies to it). Policy and usage changes show quickly.
        "RATE_LIMIT_REQUESTS_PER_MINUTE": "100000",
        "RATE_LIMIT_TOKENS_PER_MINUTE": "100000000",
        "QUOTA_POLICY_REFRESH_SECONDS": "0.2",
        "USAGE_FLUSH_SECONDS": "0.1",
        **overrides,
    }


def chat(relay: RelayProcess, key: str | None, model: str = "gpt-4o-mini", **body) -> httpx.Response:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return httpx.post(
        f"{relay.url}/v1/chat/completions", headers=headers, timeout=30,
        json={"model": model, "messages": [{"role": "user", "content": "hi"}], **body},
    )


def manage(relay: RelayProcess, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    """Run `manage.py ARGS` against the relay's database and shared state."""
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=relay.env, input=stdin,
        capture_output=True, text=True, timeout=60,
    )


def create_relay_key_by_command(relay: RelayProcess, name: str, *options: str) -> str:
    result = manage(relay, "create_relay_key", "--name", name, *options)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


class Admin:
    """A logged-in superuser of one relay process (a fresh user, so runs sharing a database
    do not collide)."""

    def __init__(self, relay: RelayProcess) -> None:
        self.relay = relay
        self.username = f"operator-{uuid.uuid4().hex[:8]}"
        result = manage(
            relay, "shell", "-c",
            "from django.contrib.auth.models import User; "
            f"User.objects.create_superuser({self.username!r}, 'ops@example.com', {PASSWORD!r})",
        )
        assert result.returncode == 0, result.stderr
        self.http = httpx.Client(base_url=relay.url, timeout=30)
        login = self.http.get("/admin/login/")
        response = self.http.post("/admin/login/?next=/admin/", data={
            "username": self.username, "password": PASSWORD, "next": "/admin/",
            "csrfmiddlewaretoken": _csrf(login.text),
        })
        assert response.status_code == 302, response.text

    def page(self, path: str) -> str:
        response = self.http.get(path)
        assert response.status_code == 200, (path, response.status_code)
        return response.text

    def post_form(self, path: str, data: dict) -> httpx.Response:
        token = _csrf(self.page(path))
        return self.http.post(path, data={**data, "csrfmiddlewaretoken": token})

    # ---- relay keys
    def add_relay_key(self, name: str, *, models: str = "", expires_at: datetime | None = None,
                      policy: str = "", enabled: bool = True) -> tuple[int, str]:
        """Create a relay key in the admin: (id, the full key from the page shown once); `policy`
        names a quota policy (chosen in the form's list)."""
        data = {"name": name, "owner_note": "made by a test", "quota_policy": self.policy_id(policy) if policy else "",
                "allowed_models": models, "_save": "Save"}
        if enabled:
            data["enabled"] = "on"
        if expires_at is not None:
            utc = expires_at.astimezone(timezone.utc)
            data.update({"expires_at_0": utc.strftime("%Y-%m-%d"), "expires_at_1": utc.strftime("%H:%M:%S")})
        response = self.post_form("/admin/keys/relaykey/add/", data)
        assert response.status_code == 200, response.text
        key = re.search(r'id="new-relay-key"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*id="new-relay-key"', response.text)
        assert key, response.text
        key_id = re.search(r"/admin/keys/relaykey/(\d+)/change/", response.text)
        return int(key_id.group(1)), html.unescape(key.group(1) or key.group(2))

    def policy_id(self, name: str) -> str:
        listing = self.page(f"/admin/quotas/quotapolicy/?q={name}")
        found = dict((html.unescape(label), pk) for pk, label in
                     re.findall(r'href="/admin/quotas/quotapolicy/(\d+)/change/[^"]*">([^<]+)</a>', listing))
        assert name in found, f"no quota policy {name!r}"
        return found[name]

    def revoke_relay_key(self, key_id: int) -> None:
        response = self.post_form("/admin/keys/relaykey/", {
            "action": "revoke", "_selected_action": [str(key_id)], "index": "0", "select_across": "0"})
        assert response.status_code == 302, response.text

    # ---- upstream keys
    def add_upstream_key(self, label: str, secret: str) -> int:
        response = self.post_form("/admin/keys/upstreamkey/add/", {
            "label": label, "api_key": secret, "note": "", "enabled": "on", "_save": "Save"})
        assert response.status_code == 302, response.text
        return self.upstream_ids()[label]

    def upstream_ids(self) -> dict[str, int]:
        text = self.page("/admin/keys/upstreamkey/")
        return {html.unescape(label): int(pk) for pk, label in
                re.findall(r'href="/admin/keys/upstreamkey/(\d+)/change/[^"]*">([^<]+)</a>', text)}

    def set_upstream_enabled(self, key_id: int, label: str, enabled: bool) -> None:
        data = {"label": label, "api_key": "", "note": "", "_save": "Save"}
        if enabled:
            data["enabled"] = "on"
        response = self.post_form(f"/admin/keys/upstreamkey/{key_id}/change/", data)
        assert response.status_code == 302, response.text

    def empty_the_pool(self) -> None:
        ids = [str(pk) for pk in self.upstream_ids().values()]
        if ids:
            response = self.post_form("/admin/keys/upstreamkey/", {
                "action": "delete_selected", "_selected_action": ids, "post": "yes"})
            assert response.status_code == 302, response.text
        assert not self.upstream_ids()

    def pool(self, **keys: str) -> dict[str, int]:
        """Make the pool exactly these keys (label=secret), added in order: label → id."""
        self.empty_the_pool()
        return {label: self.add_upstream_key(label, secret) for label, secret in keys.items()}

    def upstream_row(self, key_id: int) -> str:
        """The upstream key's change page as text (masked key, health, counts)."""
        return _text(self.page(f"/admin/keys/upstreamkey/{key_id}/change/"))


def _csrf(page: str) -> str:
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    assert match, "no CSRF token on the page"
    return match.group(1)


def _text(page: str) -> str:
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page)))


def dump_database(relay: RelayProcess) -> str:
    """Every row of every table of the relay's database, as one string."""
    url = relay.env["DATABASE_URL"]
    rows: list[str] = []
    if url.startswith("sqlite"):
        with sqlite3.connect(url.removeprefix("sqlite:///")) as db:
            tables = [t for (t,) in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
            for table in tables:
                rows += [f"{table}: {row!r}" for row in db.execute(f'SELECT * FROM "{table}"')]
        return "\n".join(rows)
    import psycopg

    with psycopg.connect(url) as db:
        tables = [t for (t,) in db.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'")]
        for table in tables:
            rows += [f"{table}: {row!r}" for row in db.execute(f'SELECT * FROM "{table}"')]
    return "\n".join(rows)
