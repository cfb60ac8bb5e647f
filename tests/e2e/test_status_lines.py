"""Every status the relay sends carries its reason phrase on the status line, read over a raw socket
(Twisted's own table lacks 429 and 529, which went out as `Unknown Status`)."""
from __future__ import annotations

import json
import socket

import pytest

from tests.conftest import TEST_KEY

CHAT = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}


@pytest.fixture(scope="module")
def status_relay(relay_factory):
    return relay_factory(UPSTREAM_READ_TIMEOUT="1", UPSTREAM_RETRY_MAX_WAIT="1", MAX_JSON_BODY_BYTES="4096")


def status_line(relay, method: str, path: str, body: dict | None = None, headers: dict | None = None,
                content_length: int | None = None) -> str:
    """The first line of the relay's answer, as sent on the wire."""
    payload = json.dumps(body).encode() if body is not None else b""
    lines = [f"{method} {path} HTTP/1.1", f"Host: 127.0.0.1:{relay.port}", f"Authorization: Bearer {TEST_KEY}",
             "Content-Type: application/json", f"Content-Length: {content_length or len(payload)}",
             "Connection: close", *(f"{k}: {v}" for k, v in (headers or {}).items())]
    with socket.create_connection(("127.0.0.1", relay.port), timeout=15) as conn:
        conn.sendall("\r\n".join(lines).encode() + b"\r\n\r\n" + (b"" if content_length else payload))
        received = b""
        while b"\r\n" not in received:
            chunk = conn.recv(4096)
            if not chunk:
                break
            received += chunk
    return received.split(b"\r\n", 1)[0].decode("latin-1")


def test_every_status_the_relay_sends_has_its_reason_phrase(status_relay, sim):
    sim.configure(models_fail=True)  # a fresh relay with no model list at all
    assert status_line(status_relay, "GET", "/v1/models") == "HTTP/1.1 503 Service Unavailable"
    sim.configure(models_fail=False)
    assert status_line(status_relay, "POST", "/v1/chat/completions", CHAT) == "HTTP/1.1 200 OK"
    assert status_line(status_relay, "POST", "/v1/chat/completions", content_length=10_000) == \
        "HTTP/1.1 413 Request Entity Too Large"
    sim.reset()
    sim.script({"status": 429, "retry_after": "30"}, times=None)
    assert status_line(status_relay, "POST", "/v1/chat/completions", CHAT) == "HTTP/1.1 429 Too Many Requests"
    sim.reset()
    sim.script({"status": 522, "envelope": "html"}, times=None)
    assert status_line(status_relay, "POST", "/v1/chat/completions", CHAT) == "HTTP/1.1 502 Bad Gateway"
    sim.reset()
    sim.script({"status": 503}, times=None)
    assert status_line(status_relay, "POST", "/v1/messages", {**CHAT, "max_tokens": 5},
                       {"anthropic-version": "2023-06-01"}) == "HTTP/1.1 529 Overloaded"
    sim.reset()
    sim.script({"delay_headers_ms": 3000}, times=None)
    assert status_line(status_relay, "POST", "/v1/chat/completions", CHAT) == "HTTP/1.1 504 Gateway Time-out"  # Twisted's own phrase
