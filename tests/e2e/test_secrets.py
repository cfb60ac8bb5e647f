"""Secrets: after a full session (chat, streams, errors, disconnects, admin pages) no key appears in
any log line, error message, admin page or database row; production defaults are safe."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import uuid
from html import unescape

import httpx
import openai
import pytest

from tests.relay_process import ROOT

CLIENT_KEY = f"sk-client-{uuid.uuid4().hex}"
REFUSED_KEY = f"bad-client-{uuid.uuid4().hex}"  # the simulator refuses keys starting with "bad"
RELAY_SECRET = f"relay-secret-{uuid.uuid4().hex}"
ADMIN_PASSWORD = f"admin-pw-{uuid.uuid4().hex}"
SECRETS = [CLIENT_KEY, REFUSED_KEY, RELAY_SECRET, ADMIN_PASSWORD]


def manage(relay, *args: str, **extra_env: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env={**relay.env, **extra_env},
                          capture_output=True, text=True, timeout=120)


def found(text: str) -> list[str]:
    return [s for s in SECRETS if s in text or s[-16:] in text]


def run_session(relay, sim) -> list[str]:
    """Everything a busy day does; returns the bodies the clients saw."""
    seen: list[str] = []
    url, auth = relay.url, {"Authorization": f"Bearer {CLIENT_KEY}"}
    sdk = openai.OpenAI(base_url=f"{url}/v1", api_key=CLIENT_KEY, max_retries=0, timeout=20)
    reply = sdk.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}])
    seen.append(reply.model_dump_json())
    # The upstream did receive the key: that is the one place it must go.
    assert sim.requests_to("/api/chat-with-ai")[-1]["headers"].get("api-key") == CLIENT_KEY
    seen.extend(c.model_dump_json() for c in sdk.chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "stream"}], stream=True))
    sim.script({"text": "x" * 2000, "chunk_size": 8, "chunk_delay_ms": 10})
    with httpx.stream("POST", f"{url}/v1/chat/completions", headers=auth, json={
            "model": "gpt-4o-mini", "stream": True, "messages": [{"role": "user", "content": "cut"}]}) as cut:
        next(cut.iter_raw())  # hang up mid-stream
    assert sim.wait_for(lambda: any(r.get("stream_closed_by_client") for r in sim.requests_to("/api/chat-with-ai")))
    for script in ({"status": 500, "message": "boom"}, {"status": 429, "retry_after": "60"},
                   {"status": 400, "error_code": "BAD", "message": "no"}, {"invalid_json": True}):
        sim.script(script, times=None)
        seen.append(httpx.post(f"{url}/v1/chat/completions", headers=auth, timeout=20, json={
            "model": "gpt-4o-mini", "messages": [{"role": "user", "content": "err"}]}).text)
        sim.reset()
    requests = [
        ("POST", "/v1/chat/completions", {"Authorization": f"Bearer {REFUSED_KEY}"}, {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "x"}]}),
        ("POST", "/v1/chat/completions", {"x-api-key": CLIENT_KEY}, {"model": "no-such-model", "messages": [{"role": "user", "content": "x"}]}),
        ("POST", "/v1/chat/completions", auth, {"model": "gpt-4o-mini", "messages": "not a list"}),
        ("GET", "/v1/models", auth, None), ("GET", "/v1/models/gpt-4o", auth, None),
        ("GET", "/v1/nowhere", auth, None), ("GET", "/v1/models", {"Authorization": f"Basic {CLIENT_KEY}"}, None),
    ]
    for method, path, headers, body in requests:
        seen.append(httpx.request(method, f"{url}{path}", headers=headers, json=body, timeout=20).text)
    return seen


def admin_pages(relay) -> list[str]:
    """Log in to the admin and fetch its index and every page it links to."""
    pages = []
    with httpx.Client(base_url=relay.url, follow_redirects=True, timeout=20) as browser:
        login = browser.get("/admin/login/")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', login.text).group(1)
        index = browser.post("/admin/login/?next=/admin/", data={
            "username": "operator", "password": ADMIN_PASSWORD, "csrfmiddlewaretoken": token})
        assert "Log out" in index.text or "logout" in index.text, "logged in"
        pages.append(index.text)
        links = set(re.findall(r'href="(/admin/[^"#?]+)"', index.text)) - {"/admin/logout/"}
        for link in sorted(links):
            page = browser.get(unescape(link))
            pages.append(page.text)
            for detail in set(re.findall(r'href="(/admin/[^"#?]+/\d+/change/)"', page.text)):
                pages.append(browser.get(unescape(detail)).text)
    return pages


def test_no_key_or_secret_appears_in_logs_answers_database_or_admin(relay_factory, sim):
    relay = relay_factory(DJANGO_SECRET_KEY=RELAY_SECRET, LOG_LEVEL="DEBUG")
    created = manage(relay, "createsuperuser", "--noinput", "--username", "operator", "--email", "op@example.com",
                     DJANGO_SUPERUSER_PASSWORD=ADMIN_PASSWORD)
    assert created.returncode == 0 or "already taken" in created.stderr, created.stderr
    seen = run_session(relay, sim)
    pages = admin_pages(relay)
    dump = manage(relay, "dumpdata", "--indent", "0")
    assert dump.returncode == 0, dump.stderr
    assert json.loads(dump.stdout) is not None

    assert sim.wait_for(lambda: "stream cut short" in relay.logs()), "the session really ran (disconnect logged)"
    assert len(relay.logs()) > 2000 and len(pages) >= 3 and len(seen) >= 15
    assert found(relay.logs()) == [], "a secret in the relay log"
    assert found("\n".join(seen)) == [], "a secret echoed to a client"
    assert found("\n".join(pages)) == [], "a secret on an admin page"
    assert found(dump.stdout) == [], "a secret stored in the database"


def test_the_admin_needs_a_login_and_csrf(relay):
    anonymous = httpx.get(f"{relay.url}/admin/", follow_redirects=False)
    assert anonymous.status_code == 302 and "/admin/login/" in anonymous.headers["location"]
    forged = httpx.post(f"{relay.url}/admin/login/", data={"username": "operator", "password": "x"})
    assert forged.status_code == 403  # no CSRF token: refused


def check_deploy(**env: str) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_URL", "REDIS_URL"))}
    return subprocess.run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
                          cwd=ROOT, env={**base, "DJANGO_SETTINGS_MODULE": "relay_site.settings", **env},
                          capture_output=True, text=True, timeout=120)


def test_check_deploy_fails_without_allowed_hosts_and_says_how_to_fix_it():
    result = check_deploy()
    assert result.returncode != 0
    assert "relay.E001" in result.stderr and "Set DJANGO_ALLOWED_HOSTS" in result.stderr
    assert "relay.W002" in result.stderr  # and the missing secret key


def test_a_configured_https_deployment_passes_check_deploy():
    result = check_deploy(DJANGO_ALLOWED_HOSTS="relay.example.com", DJANGO_SECRET_KEY=RELAY_SECRET * 2,
                          DJANGO_HTTPS="true", DJANGO_HSTS_INCLUDE_SUBDOMAINS="true", DJANGO_HSTS_PRELOAD="true")
    assert result.returncode == 0, result.stderr


def effective(names: str, **env: str) -> list[str]:
    code = ("import django; django.setup(); from django.conf import settings; "
            f"print(*[getattr(settings, n) for n in {names.split()!r}])")
    clean = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120,
                            env={**clean, "DJANGO_SETTINGS_MODULE": "relay_site.settings", **env})
    assert result.returncode == 0, result.stderr
    return result.stdout.split()


def test_production_defaults_are_safe_and_https_turns_on_secure_cookies_and_hsts():
    names = "DEBUG SESSION_COOKIE_SECURE CSRF_COOKIE_SECURE SECURE_HSTS_SECONDS SECURE_SSL_REDIRECT SESSION_COOKIE_HTTPONLY"
    assert effective(names) == ["False", "False", "False", "0", "False", "True"]
    assert effective(names, DJANGO_HTTPS="true") == ["False", "True", "True", "31536000", "True", "True"]
