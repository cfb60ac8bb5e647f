"""The admin's live view: a staff browser sees API calls within a second, from every process
sharing Redis; strangers' WebSockets are refused; without a WebSocket the page polls."""
from __future__ import annotations

import json
import os
import signal
import socket
import threading
import time
import uuid

import httpx
import openai
import pytest
import redis
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

from core.identity import fingerprint
from tests.chromium_cdp import Chromium, find_chromium
from tests.relay_operator import admin_client, create_admin, fresh_key, manage
from tests.relay_process import RelayProcess, free_port
from tests.socket_pipe import pipe

CHROMIUM = find_chromium()
CI = os.environ.get("CI", "").lower() == "true"
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None and not CI, reason="Chromium is not installed (.ci/run installs it; apt-get install chromium)")
REDIS_URL = os.environ.get("REDIS_URL") or os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")

# The rows of the latest-requests table whose key column names this key (by fingerprint).
ROWS_OF = """((label) => Array.from(document.querySelectorAll('#live-recent tbody tr.live-row'))
  .filter(tr => tr.querySelector('td.key').textContent.startsWith(label)).length)"""
MODE = "document.getElementById('live-mode').dataset.mode"


def key_label(key: str) -> str:
    return f"key {fingerprint(key)[:8]}"


def wait_until(check, timeout: float, what: str):
    """Poll `check()` until it returns a true value; fail with `what` and the last value."""
    deadline = time.monotonic() + timeout
    while not (value := check()):
        assert time.monotonic() < deadline, f"{what}: {value!r}"
        time.sleep(0.02)  # polling with a deadline, not synchronising
    return value


def chat(relay: RelayProcess, key: str, **options) -> None:
    with openai.OpenAI(base_url=f"{relay.url}/v1", api_key=key, max_retries=0, timeout=30) as client:
        client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}], **options)


class NoWebSocketProxy:
    """An HTTP proxy in front of a relay that answers WebSocket upgrades with 502, as a reverse
    proxy without WebSocket support does; everything else it passes through byte for byte."""

    def __init__(self, relay: RelayProcess) -> None:
        self.target = ("127.0.0.1", relay.port)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.listener = socket.create_server(("127.0.0.1", self.port))
        self.refused = 0
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = client.recv(65536)
            if not chunk:
                client.close()
                return
            head += chunk
        if b"upgrade: websocket" in head.lower():
            self.refused += 1
            client.sendall(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            client.close()
            return
        upstream = socket.create_connection(self.target)
        upstream.sendall(head)
        threading.Thread(target=pipe, args=(upstream, client), daemon=True).start()
        pipe(client, upstream)

    def close(self) -> None:
        self.listener.close()


def logged_in_browser(relay: RelayProcess) -> Chromium:
    username, password = create_admin(relay)
    browser = Chromium(CHROMIUM)
    browser.open_page()
    return browser, username, password


def log_in(browser: Chromium, base_url: str, username: str, password: str) -> None:
    browser.navigate(f"{base_url}/admin/login/?next=/admin/live/")
    browser.send("Runtime.evaluate", {"expression": f"""
        document.getElementById('id_username').value = {json.dumps(username)};
        document.getElementById('id_password').value = {json.dumps(password)};
        document.getElementById('login-form').submit();"""})
    browser.wait_event("Page.loadEventFired")


def socket_url(relay: RelayProcess) -> str:
    return f"ws://127.0.0.1:{relay.port}/admin/live/socket"


def open_socket(relay: RelayProcess, session: str | None, origin: str | None = "same"):
    headers = {"Cookie": f"sessionid={session}"} if session else {}
    return connect(socket_url(relay), origin=relay.url if origin == "same" else origin,
                   additional_headers=headers, open_timeout=10)


@pytest.fixture(scope="module")
def staff_session(relay) -> str:
    client = admin_client(relay)
    client.close()
    return client.cookies["sessionid"]


@needs_chromium
def test_a_staff_browser_sees_each_call_within_a_second(relay, sim):
    browser, username, password = logged_in_browser(relay)
    try:
        log_in(browser, relay.url, username, password)
        wait_until(lambda: browser.evaluate(MODE) == "websocket", 10, "the page never went live")
        assert httpx.get(f"{relay.url}/healthz").status_code == 200  # a probe, not an API call: not shown
        key = fresh_key()
        for n in range(1, 4):
            chat(relay, key)
            answered = time.monotonic()
            wait_until(lambda: browser.evaluate(f"{ROWS_OF}({json.dumps(key_label(key))})") == n, 5,
                       f"call {n} never showed")
            assert time.monotonic() - answered < 1.0, f"call {n} took over a second to show"
        tiles = browser.evaluate("""({requests: Number(document.getElementById('tile-requests').textContent),
            endpoint: !!document.querySelector('#live-endpoints tr[data-endpoint="chat.completions"]'),
            probe: !!document.querySelector('#live-endpoints tr[data-endpoint="healthz"]'),
            html: document.documentElement.outerHTML})""")
        assert tiles["requests"] >= 3 and tiles["endpoint"] and not tiles["probe"]
        assert key not in tiles["html"]  # a fingerprint's prefix, never the key
        requested = browser.requested_urls()
        assert any(url.endswith("/static/live/live.js") for url in requested)
        assert all(url.startswith(relay.url) or url.startswith("data:") for url in requested), requested
    finally:
        browser.close()


@needs_chromium
def test_without_a_websocket_the_page_polls_and_still_updates(relay, sim):
    browser, username, password = logged_in_browser(relay)
    proxy = NoWebSocketProxy(relay)
    try:
        log_in(browser, proxy.url, username, password)
        wait_until(lambda: browser.evaluate(MODE) == "polling", 10, "the page did not fall back to polling")
        assert proxy.refused >= 1
        assert "polling" in browser.evaluate("document.getElementById('live-mode').textContent")
        key = fresh_key()
        chat(relay, key)
        chat(relay, key, stream=True)
        wait_until(lambda: browser.evaluate(f"{ROWS_OF}({json.dumps(key_label(key))})") == 2, 10,
                   "polling never showed the calls")
        assert browser.evaluate(MODE) == "polling"
        assert any(url.endswith("/admin/live/snapshot.json") for url in browser.requested_urls())
    finally:
        browser.close()
        proxy.close()


def test_a_watcher_on_one_process_sees_calls_made_to_another(relay_factory, sim):
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except redis.RedisError as error:
        if CI:
            raise
        pytest.skip(f"Redis at {REDIS_URL} does not answer: {error}")
    shared = {"REDIS_URL": REDIS_URL, "CACHE_KEY_PREFIX": f"relay-live-{uuid.uuid4().hex[:8]}"}
    a = relay_factory(**shared)
    b = relay_factory(**shared, DATABASE_URL=a.env["DATABASE_URL"])  # one migration, not two
    admin = admin_client(a)
    try:
        with open_socket(a, admin.cookies["sessionid"]) as watcher:
            key = fresh_key()
            for _ in range(2):
                chat(b, key)
            label = key_label(key)

            def rows_of_b():
                snapshot = json.loads(watcher.recv(timeout=5))
                return [row for row in snapshot["recent"] if row["key"].startswith(label)]

            wait_until(lambda: len(rows_of_b()) == 2, 5, "process A never saw B's calls")
        # A's polling endpoint answers for B's traffic too.
        snapshot = admin.get("/admin/live/snapshot.json").json()
        assert snapshot["mode"] == "polling" and snapshot["processes"] >= 1
        assert len([row for row in snapshot["recent"] if row["key"].startswith(label)]) == 2
    finally:
        admin.close()


def test_a_socket_without_a_staff_session_or_from_another_origin_is_refused(relay, staff_session):
    with open_socket(relay, staff_session) as watcher:  # the control: a staff session from the page's origin
        assert "totals" in json.loads(watcher.recv(timeout=5))
    refusals = {
        "no cookie": (None, "same"),
        "a non-staff user": (non_staff_session(relay), "same"),
        "another origin": (staff_session, "http://evil.example"),
        "no origin": (staff_session, None),
    }
    for case, (session, origin) in refusals.items():
        with pytest.raises(InvalidStatus) as refused:
            with open_socket(relay, session, origin):
                pass
        assert refused.value.response.status_code == 403, case
    assert httpx.get(f"{relay.url}/admin/live/snapshot.json", cookies={"sessionid": non_staff_session(relay)}).status_code == 403
    assert httpx.get(f"{relay.url}/admin/live/snapshot.json").status_code == 403
    assert httpx.get(f"{relay.url}/admin/live/").status_code == 302  # to the admin's login


def non_staff_session(relay: RelayProcess) -> str:
    """A session of an active user who is not staff (the admin's login form refuses them, so the
    session is made as Django's login would make it)."""
    result = manage(relay, "shell", "-c", (
        "import uuid; from importlib import import_module; from django.conf import settings; "
        "from django.contrib.auth import SESSION_KEY, BACKEND_SESSION_KEY, HASH_SESSION_KEY; "
        "from django.contrib.auth.models import User; "
        "u = User.objects.create_user('user-' + uuid.uuid4().hex[:8], password=uuid.uuid4().hex); "
        "s = import_module(settings.SESSION_ENGINE).SessionStore(); "
        "s[SESSION_KEY] = str(u.pk); s[BACKEND_SESSION_KEY] = 'django.contrib.auth.backends.ModelBackend'; "
        "s[HASH_SESSION_KEY] = u.get_session_auth_hash(); s.create(); print(s.session_key)"))
    return result.stdout.strip().splitlines()[-1]


def test_with_the_channel_layer_down_the_api_serves_and_the_page_says_so(relay_factory, sim):
    relay = relay_factory(REDIS_URL=f"redis://127.0.0.1:{free_port()}/0")  # nothing listens there
    admin = admin_client(relay)
    try:
        with open_socket(relay, admin.cookies["sessionid"]) as watcher:
            key = fresh_key()
            for _ in range(8):
                chat(relay, key)
            wait_until(lambda: json.loads(watcher.recv(timeout=5))["problem"], 10, "the page was not told")
        wait_until(lambda: "could not publish" in relay.logs(), 10, "the publisher's failure was not logged")
        assert relay.logs().count("could not publish") == 1  # once a minute, not once a batch
    finally:
        admin.close()


def test_an_open_live_view_does_not_hold_a_shutting_down_process(relay_factory, sim):
    relay = relay_factory(SHUTDOWN_GRACE_SECONDS="30")
    admin = admin_client(relay)
    try:
        with open_socket(relay, admin.cookies["sessionid"]) as watcher:
            watcher.recv(timeout=5)
            stopping = time.monotonic()
            relay.proc.send_signal(signal.SIGTERM)
            with pytest.raises(ConnectionClosed) as closed:
                while True:
                    watcher.recv(timeout=10)
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 1000, relay.logs()  # closed, not dropped
            assert relay.proc.wait(timeout=15) == 0
            assert time.monotonic() - stopping < 10, "the socket held the process through its grace period"
        assert "shutdown: done" in relay.logs()  # the flush hooks ran: the shutdown did not fail
    finally:
        admin.close()
