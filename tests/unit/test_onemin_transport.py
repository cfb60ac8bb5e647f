"""The upstream transport (aiohttp behind httpx) against a scripted loopback server: framing, reuse,
errors, timeouts, and a hostile upstream (bad lengths, header injection, oversized bodies, proxies)."""
from __future__ import annotations

import asyncio
import socket
from typing import Awaitable, Callable

import httpx
import pytest

from api.upstream.onemin_transport import UpstreamTransport

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter, int], Awaitable[None]]


async def _read_request(reader: asyncio.StreamReader) -> tuple[bytes, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":")[1])
    return head, await reader.readexactly(length) if length else b""


def serve(handler: Handler, requests: list | None = None):
    """Run `scenario(url, transport)` against a server whose connections are handled by `handler`."""

    def runner(scenario: Callable[[str, UpstreamTransport], Awaitable[None]], **pool: int) -> dict:
        stats = {"connections": 0}

        async def on_connection(reader, writer):
            stats["connections"] += 1
            try:
                await handler(reader, writer, stats["connections"])
            except (ConnectionError, asyncio.IncompleteReadError):
                pass
            finally:
                writer.close()

        async def main():
            server = await asyncio.start_server(on_connection, "127.0.0.1", 0)
            port = server.sockets[0].getsockname()[1]
            transport = UpstreamTransport(max_connections=pool.get("max_connections", 100))
            try:
                await scenario(f"http://127.0.0.1:{port}", transport)
            finally:
                await transport.aclose()
                server.close()

        asyncio.run(main())
        return stats

    return runner


async def get(transport: httpx.AsyncBaseTransport, url: str, method: str = "POST", timeout: float = 2.0, body: bytes = b"{}") -> httpx.Response:
    request = httpx.Request(method, url, content=body, extensions={"timeout": httpx.Timeout(timeout).as_dict()})
    response = await transport.handle_async_request(request)
    response.request = request
    await response.aread()
    return response


async def until(predicate: Callable[[], bool], timeout: float = 2.0) -> None:
    """Poll with a deadline (here: until the server's close has reached the idle connection)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        assert asyncio.get_running_loop().time() < deadline, "condition not reached in time"
        await asyncio.sleep(0.005)


def keep_alive_server(responses: list[bytes]) -> Handler:
    async def handler(reader, writer, _):
        for raw in responses:
            await _read_request(reader)
            writer.write(raw)
            await writer.drain()
        await reader.read()  # hold the connection until the client closes it
    return handler


def test_it_reuses_a_keep_alive_connection_for_the_next_request():
    ok = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Type: application/json\r\n\r\n{}"

    async def scenario(url, transport):
        for _ in range(3):
            response = await get(transport, url)
            assert response.status_code == 200 and response.content == b"{}"
            assert response.headers["content-type"] == "application/json"

    assert serve(keep_alive_server([ok, ok, ok]))(scenario)["connections"] == 1


@pytest.mark.parametrize(
    "raw, body",
    [
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n", b"hello world"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\nhello world", b"hello world"),
        (b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", b"ok"),
        (b"HTTP/1.1 204 No Content\r\n\r\n", b""),
    ],
)
def test_it_reads_each_framing_and_keeps_the_connection(raw, body):
    async def scenario(url, transport):
        for _ in range(2):
            assert (await get(transport, url)).content == body

    assert serve(keep_alive_server([raw, raw]))(scenario)["connections"] == 1


def test_a_body_ended_by_close_is_read_whole_and_the_connection_not_reused():
    async def handler(reader, writer, _):
        await _read_request(reader)
        writer.write(b"HTTP/1.0 200 OK\r\n\r\npart one, ")
        await writer.drain()
        writer.write(b"part two")

    async def scenario(url, transport):
        assert (await get(transport, url)).content == b"part one, part two"
        assert (await get(transport, url)).content == b"part one, part two"

    assert serve(handler)(scenario)["connections"] == 2


def test_connection_close_gets_a_fresh_connection_for_the_next_request():
    async def handler(reader, writer, n):
        await _read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nConnection: close\r\n\r\na")

    async def scenario(url, transport):
        assert (await get(transport, url)).content == b"a"
        assert (await get(transport, url)).content == b"a"

    assert serve(handler)(scenario)["connections"] == 2


def test_a_server_that_answers_late_is_a_read_timeout():
    async def handler(reader, writer, _):
        await _read_request(reader)
        await asyncio.sleep(1)

    async def scenario(url, transport):
        with pytest.raises(httpx.ReadTimeout):
            await get(transport, url, timeout=0.1)

    serve(handler)(scenario)


def test_a_body_that_stops_mid_way_is_a_protocol_error():
    async def handler(reader, writer, _):
        await _read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly this")

    async def scenario(url, transport):
        with pytest.raises(httpx.RemoteProtocolError):
            await get(transport, url)

    serve(handler)(scenario)


@pytest.mark.parametrize("raw", [b"SMTP ready\r\n\r\n", b"HTTP/1.1 abc OK\r\n\r\n", b"HTTP/1.1 200 OK\r\nbad header\r\n\r\n"])
def test_an_answer_that_is_not_http_is_a_protocol_error(raw):
    async def handler(reader, writer, _):
        await _read_request(reader)
        writer.write(raw)

    async def scenario(url, transport):
        with pytest.raises(httpx.RemoteProtocolError):
            await get(transport, url)

    serve(handler)(scenario)


def test_a_closed_port_is_a_connect_error():
    async def main():
        transport = UpstreamTransport(max_connections=10)
        try:
            with pytest.raises(httpx.ConnectError):
                await get(transport, "http://127.0.0.1:1/x")
        finally:
            await transport.aclose()

    asyncio.run(main())


def test_a_full_pool_makes_the_next_request_wait_then_time_out():
    async def handler(reader, writer, _):
        await _read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\n")
        await reader.read()

    async def scenario(url, transport):
        held = await transport.handle_async_request(httpx.Request("POST", url, extensions={"timeout": httpx.Timeout(2.0).as_dict()}))
        # aiohttp's connect timeout covers the wait for a pool slot: nothing was sent, so the seam
        # may retry it like any connect failure.
        with pytest.raises(httpx.ConnectTimeout):
            await get(transport, url, timeout=0.1)
        await held.aclose()  # frees the slot (and closes the half-read connection)

    serve(handler)(scenario, max_connections=1)


def test_the_request_goes_out_with_its_headers_and_body_in_one_piece():
    seen: list[bytes] = []

    async def handler(reader, writer, _):
        head, body = await _read_request(reader)
        seen.extend([head, body])
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
        await reader.read()

    async def scenario(url, transport):
        request = httpx.Request("POST", url + "/api/chat?isStreaming=true", headers={"API-KEY": "k"}, content=b'{"a":1}',
                                extensions={"timeout": httpx.Timeout(2.0).as_dict()})
        response = await transport.handle_async_request(request)
        await response.aread()

    serve(handler)(scenario)
    head = seen[0].decode()
    assert head.startswith("POST /api/chat?isStreaming=true HTTP/1.1\r\n")
    lines = head.lower()  # header names are case-insensitive; httpx keeps them lower-case
    assert "\r\napi-key: k\r\n" in lines and "\r\ncontent-length: 7\r\n" in lines and "\r\nhost: 127.0.0.1:" in lines
    assert seen[1] == b'{"a":1}'


@pytest.mark.parametrize("name, kind", [("aiohttp", UpstreamTransport), ("httpx", httpx.AsyncHTTPTransport)])
def test_upstream_transport_setting_chooses_the_client(settings, name, kind):
    from api.upstream import onemin_client

    settings.UPSTREAM_TRANSPORT = name

    async def chosen() -> httpx.AsyncBaseTransport:
        return onemin_client.transport()  # one per loop: a new loop makes a new one

    assert type(asyncio.run(chosen())) is kind


# ---- a hostile or broken upstream ----------------------------------------------------------------

def _answers(raw: bytes) -> Handler:
    async def handler(reader, writer, _):
        await _read_request(reader)
        writer.write(raw)
        await writer.drain()
        await reader.read()
    return handler


@pytest.mark.parametrize("raw", [
    b"HTTP/1.1 200 OK\r\nContent-Length: -5\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nstray",
    b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 9\r\n\r\nok",
    b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n",
])
def test_a_negative_or_conflicting_length_is_a_protocol_error_and_the_connection_is_not_reused(raw):
    async def scenario(url, transport):
        for _ in range(2):  # the second request must not read the first answer's leftovers
            with pytest.raises(httpx.RemoteProtocolError):
                await get(transport, url)

    assert serve(_answers(raw))(scenario)["connections"] == 2


@pytest.mark.parametrize("value", ["k\r\nX-Injected: 1", "k\nX-Injected: 1", "k\rX"])
def test_a_header_value_with_cr_or_lf_is_never_sent(value):
    seen: list[bytes] = []

    async def handler(reader, writer, _):
        seen.append(await reader.read(65536))

    async def scenario(url, transport):
        request = httpx.Request("POST", url, headers={"API-KEY": value}, content=b"{}",
                                extensions={"timeout": httpx.Timeout(2.0).as_dict()})
        with pytest.raises(httpx.LocalProtocolError):
            await transport.handle_async_request(request)

    serve(handler)(scenario)
    assert not any(b"X-Injected" in data for data in seen)


def test_the_seam_refuses_an_oversized_body(settings):
    from api.upstream import onemin_client
    from core.errors import UpstreamError

    settings.UPSTREAM_MAX_RESPONSE_BYTES = 1024
    big = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + b"400\r\n" + b"x" * 1024 + b"\r\n" + b"10\r\n" + b"y" * 16 + b"\r\n0\r\n\r\n"
    declared = b"HTTP/1.1 200 OK\r\nContent-Length: 999999999\r\n\r\n{}"

    for raw in (big, declared):
        async def scenario(url, transport, raw=raw):
            onemin_client.transport_override = transport
            try:
                with pytest.raises(UpstreamError, match="larger than the relay accepts"):
                    await onemin_client._request("GET", url, stream=False, follow_redirects=False)
            finally:
                onemin_client.transport_override = None

        serve(_answers(raw))(scenario)


def test_a_body_under_the_cap_is_read_and_decoded(settings):
    import gzip

    from api.upstream import onemin_client

    settings.UPSTREAM_MAX_RESPONSE_BYTES = 1024
    packed = gzip.compress(b'{"ok": true}')
    raw = b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: %d\r\n\r\n%s" % (len(packed), packed)

    async def scenario(url, transport):
        onemin_client.transport_override = transport
        try:
            response = await onemin_client._request("GET", url, stream=False, follow_redirects=False)
        finally:
            onemin_client.transport_override = None
        assert response.json() == {"ok": True}

    serve(_answers(raw))(scenario)


def test_https_proxy_from_the_environment_is_used(monkeypatch):
    """HTTPS_PROXY/HTTP_PROXY are honoured as documented: the request goes to the proxy."""
    proxied: list[bytes] = []

    async def proxy(reader, writer, _):
        head, _body = await _read_request(reader)
        proxied.append(head)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        await writer.drain()
        await reader.read()

    async def scenario(url, _transport):
        monkeypatch.setenv("HTTP_PROXY", url)
        monkeypatch.delenv("NO_PROXY", raising=False)
        monkeypatch.delenv("no_proxy", raising=False)
        transport = UpstreamTransport(max_connections=4)
        try:
            response = await get(transport, "http://upstream.invalid/api/x", method="GET")
        finally:
            await transport.aclose()
        assert response.content == b"ok"

    serve(proxy)(scenario)
    assert proxied and proxied[0].startswith(b"GET http://upstream.invalid/api/x HTTP/1.1")


def _proxy_server(proxied: list[bytes]) -> Handler:
    async def proxy(reader, writer, _):
        while True:
            head, _body = await _read_request(reader)
            proxied.append(head)
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
            await writer.drain()
    return proxy


def test_proxy_credentials_in_the_proxy_url_are_sent_and_the_environment_is_read_once_per_origin(monkeypatch):
    """aiohttp's own trust_env re-reads the environment (and ~/.netrc) in a thread on every request;
    here each origin's proxy is looked up once: a later change of the variables needs a restart."""
    proxied: list[bytes] = []

    async def scenario(url, _transport):
        monkeypatch.setenv("HTTP_PROXY", url.replace("http://", "http://user:s3cret@"))
        monkeypatch.delenv("NO_PROXY", raising=False)
        monkeypatch.delenv("no_proxy", raising=False)
        transport = UpstreamTransport(max_connections=4)
        try:
            assert (await get(transport, "http://upstream.invalid/api/a", method="GET")).content == b"ok"
            monkeypatch.delenv("HTTP_PROXY")
            # Same origin: still the proxy (a direct request to upstream.invalid could not resolve).
            assert (await get(transport, "http://upstream.invalid/api/b", method="GET")).content == b"ok"
        finally:
            await transport.aclose()

    serve(_proxy_server(proxied))(scenario)
    assert [head.split(b"\r\n")[0] for head in proxied] == [
        b"GET http://upstream.invalid/api/a HTTP/1.1", b"GET http://upstream.invalid/api/b HTTP/1.1"]
    assert all(b"proxy-authorization: basic dxnlcjpzm2nyzxq=" in head.lower() for head in proxied), proxied


def test_no_proxy_sends_the_request_direct(monkeypatch):
    """NO_PROXY names hosts reached without the proxy (here the proxy address is a closed port)."""
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        dead_proxy = f"http://127.0.0.1:{closed.getsockname()[1]}"

    async def scenario(url, _transport):
        monkeypatch.setenv("HTTP_PROXY", dead_proxy)
        monkeypatch.setenv("NO_PROXY", "127.0.0.1")
        transport = UpstreamTransport(max_connections=4)
        try:
            assert (await get(transport, f"{url}/api/x", method="GET")).content == b"ok"
        finally:
            await transport.aclose()

    serve(keep_alive_server([b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"]))(scenario)


def test_an_answer_refused_as_too_large_leaves_no_bytes_for_the_next_request(settings):
    """The seam's non-streamed calls are read whole in the transport (READ_LIMIT): one cut off at
    the cap drops its connection, so the next call cannot read the rest of it."""
    from api.upstream import onemin_client
    from core.errors import UpstreamError

    settings.UPSTREAM_MAX_RESPONSE_BYTES = 1024
    # Past the cap, with more of the answer still to come when the relay gives up on it.
    big = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + b"1000\r\n" + b"x" * 2048
    ok = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}"

    async def scenario(url, transport):
        onemin_client.transport_override = transport
        try:
            with pytest.raises(UpstreamError, match="larger than the relay accepts"):
                await onemin_client._request("GET", url, stream=False, follow_redirects=False)
            response = await onemin_client._request("GET", url, stream=False, follow_redirects=False)
        finally:
            onemin_client.transport_override = None
        assert response.content == b"{}" and response.is_stream_consumed

    async def handler(reader, writer, n):
        await _read_request(reader)
        writer.write(big if n == 1 else ok)
        await writer.drain()
        await reader.read()

    assert serve(handler)(scenario)["connections"] == 2
