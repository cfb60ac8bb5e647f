"""Hostile input: oversized bodies are refused before they are read, deep JSON and header floods
are refused cleanly, and none of it reaches 1min.ai or produces a 5xx."""
from __future__ import annotations

import json
import socket

import httpx
import pytest

from tests.conftest import TEST_KEY
from tests.openai_schema import validate

JSON_LIMIT = 64 * 1024
AUDIO_FILE_LIMIT = 256 * 1024
AUDIO_LIMIT = AUDIO_FILE_LIMIT + 1024 * 1024  # the file plus the rest of the form


@pytest.fixture(scope="module")
def guarded(relay_factory):
    return relay_factory(MAX_JSON_BODY_BYTES=str(JSON_LIMIT), MAX_AUDIO_UPLOAD_BYTES=str(AUDIO_FILE_LIMIT))


def exchange(relay, head: str, body: bytes = b"", read_timeout: float = 5.0) -> tuple[int, dict, bytes]:
    """Send a request head (header lines, no blank line), a body, and read the answer."""
    with socket.create_connection(("127.0.0.1", relay.port), timeout=read_timeout) as conn:
        conn.sendall(head.replace("\n", "\r\n").encode() + b"\r\n" + body)
        received = b""
        try:
            while b"\r\n\r\n" not in received or not _complete(received):
                piece = conn.recv(65536)
                if not piece:
                    break
                received += piece
        except (ConnectionResetError, socket.timeout):
            pass
    head_bytes, _, payload = received.partition(b"\r\n\r\n")
    lines = head_bytes.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1]) if lines[0] else 0
    headers = {k.strip().lower(): v.strip() for k, _, v in (l.partition(":") for l in lines[1:])}
    return status, headers, payload


def _complete(received: bytes) -> bool:
    head, _, payload = received.partition(b"\r\n\r\n")
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            return len(payload) >= int(line.split(b":")[1])
    return False


def request_head(path: str, extra: str) -> str:
    return (f"POST {path} HTTP/1.1\nHost: 127.0.0.1\nAuthorization: Bearer {TEST_KEY}\n"
            f"Content-Type: application/json\n{extra}")


def assert_too_large(status: int, payload: bytes, limit: int) -> None:
    assert status == 413
    body = json.loads(payload)
    validate(body, "ErrorResponse")
    assert body["error"]["code"] == "request_too_large" and str(limit) in body["error"]["message"]


def test_a_declared_oversized_body_is_refused_before_it_is_sent(guarded, sim):
    # Only the headers go out: the 413 cannot have waited for a body that never comes.
    status, headers, payload = exchange(guarded, request_head("/v1/chat/completions", "Content-Length: 10000000000\n"))
    assert_too_large(status, payload, JSON_LIMIT)
    assert headers["connection"] == "close"
    assert sim.requests_to("/api/chat-with-ai") == []


def test_a_chunked_body_is_counted_as_it_arrives_and_cut_off_at_the_limit(guarded, sim):
    chunk = b"x" * 16384
    framed = b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for _ in range(6))  # 96 KiB, never terminated
    status, _, payload = exchange(guarded, request_head("/v1/chat/completions", "Transfer-Encoding: chunked\n"), framed)
    assert_too_large(status, payload, JSON_LIMIT)
    assert sim.requests_to("/api/chat-with-ai") == []


def test_expect_100_continue_gets_the_413_instead_of_a_go_ahead(guarded):
    status, _, payload = exchange(guarded, request_head(
        "/v1/chat/completions", f"Content-Length: {JSON_LIMIT + 1}\nExpect: 100-continue\n"))
    assert_too_large(status, payload, JSON_LIMIT)


def test_an_sdk_style_client_sending_too_much_reads_the_413(guarded, sim):
    response = httpx.post(
        f"{guarded.url}/v1/chat/completions", headers={"Authorization": f"Bearer {TEST_KEY}"},
        json={"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "x" * (JSON_LIMIT * 4)}]}, timeout=10,
    )
    assert_too_large(response.status_code, response.content, JSON_LIMIT)


def test_a_body_at_the_limit_is_accepted(guarded, sim):
    message = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": ""}]}
    message["messages"][0]["content"] = "y" * (JSON_LIMIT - len(json.dumps(message)))
    body = json.dumps(message).encode()
    assert len(body) == JSON_LIMIT
    response = httpx.post(f"{guarded.url}/v1/chat/completions", content=body, timeout=10,
                          headers={"Authorization": f"Bearer {TEST_KEY}", "Content-Type": "application/json"})
    assert response.status_code == 200, response.text


def test_audio_endpoints_have_their_own_larger_limit(guarded):
    declared = request_head("/v1/audio/transcriptions", f"Content-Length: {AUDIO_LIMIT + 1}\n")
    status, _, payload = exchange(guarded, declared)
    assert_too_large(status, payload, AUDIO_LIMIT)
    # Over the JSON limit but under the audio one: the body is read and the endpoint answers.
    body = b"z" * (JSON_LIMIT * 2)
    status, _, payload = exchange(guarded, request_head("/v1/audio/transcriptions", f"Content-Length: {len(body)}\n"), body)
    assert status != 413 and status < 500
    validate(json.loads(payload), "ErrorResponse")


@pytest.mark.parametrize("depth", [65, 1000, 100_000])
def test_deeply_nested_json_is_a_clear_400(relay, sim, depth):
    body = '{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi","x":' + "[" * depth + "]" * depth + "}]}"
    response = httpx.post(f"{relay.url}/v1/chat/completions", content=body, timeout=10,
                          headers={"Authorization": f"Bearer {TEST_KEY}", "Content-Type": "application/json"})
    assert response.status_code == 400, response.text
    validate(response.json(), "ErrorResponse")
    assert response.json()["error"]["code"] == "json_too_deep"
    assert sim.requests_to("/api/chat-with-ai") == []


def test_json_nested_within_the_limit_is_fine(client, sim):
    nested: object = "deep"
    for _ in range(40):
        nested = {"k": nested}
    reply = client.chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}], extra_body={"metadata_blob": nested})
    assert reply.choices[0].message.content


def test_headers_past_the_size_limit_are_refused_and_the_connection_closed(relay):
    padding = "".join(f"X-Padding-{i}: {'a' * 6000}\n" for i in range(3))  # 18 KB > MAX_HEADER_BYTES
    status, _, _ = exchange(relay, f"GET /v1/models HTTP/1.1\nHost: 127.0.0.1\n{padding}")
    assert status == 400


def test_a_single_header_line_past_the_limit_gets_the_connection_closed(relay):
    status, headers, payload = exchange(relay, f"GET /v1/models HTTP/1.1\nHost: 127.0.0.1\nX-Long: {'a' * 20000}\n")
    assert (status, headers, payload) == (0, {}, b"")  # twisted drops it without an answer


def test_too_many_header_lines_are_refused(relay):
    many = "".join(f"X-H{i}: v\n" for i in range(150))
    status, _, _ = exchange(relay, f"GET /v1/models HTTP/1.1\nHost: 127.0.0.1\n{many}")
    assert status == 400


def test_ordinary_headers_still_pass(relay, sim):
    some = "".join(f"X-H{i}: v\n" for i in range(40))
    status, _, _ = exchange(relay, f"GET /v1/models HTTP/1.1\nHost: 127.0.0.1\nAuthorization: Bearer {TEST_KEY}\n"
                                   f"Connection: close\n{some}")
    assert status == 200
