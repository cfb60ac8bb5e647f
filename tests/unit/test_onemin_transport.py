"""The upstream transport (aiohttp behind httpx) against a scripted loopback server: framing, reuse,
errors and timeouts (a hostile upstream: test_onemin_transport_hostile.py)."""
from __future__ import annotations

import asyncio

import httpx
import pytest

from api.upstream.onemin_transport import UpstreamTransport
from tests.unit.loopback_upstream import get, keep_alive_server, read_request, serve


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
        await read_request(reader)
        writer.write(b"HTTP/1.0 200 OK\r\n\r\npart one, ")
        await writer.drain()
        writer.write(b"part two")

    async def scenario(url, transport):
        assert (await get(transport, url)).content == b"part one, part two"
        assert (await get(transport, url)).content == b"part one, part two"

    assert serve(handler)(scenario)["connections"] == 2


def test_connection_close_gets_a_fresh_connection_for_the_next_request():
    async def handler(reader, writer, n):
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nConnection: close\r\n\r\na")

    async def scenario(url, transport):
        assert (await get(transport, url)).content == b"a"
        assert (await get(transport, url)).content == b"a"

    assert serve(handler)(scenario)["connections"] == 2


def test_a_server_that_answers_late_is_a_read_timeout():
    async def handler(reader, writer, _):
        await read_request(reader)
        await asyncio.sleep(1)

    async def scenario(url, transport):
        with pytest.raises(httpx.ReadTimeout):
            await get(transport, url, timeout=0.1)

    serve(handler)(scenario)


def test_a_body_that_stops_mid_way_is_a_protocol_error():
    async def handler(reader, writer, _):
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly this")

    async def scenario(url, transport):
        with pytest.raises(httpx.RemoteProtocolError):
            await get(transport, url)

    serve(handler)(scenario)


@pytest.mark.parametrize("raw", [b"SMTP ready\r\n\r\n", b"HTTP/1.1 abc OK\r\n\r\n", b"HTTP/1.1 200 OK\r\nbad header\r\n\r\n"])
def test_an_answer_that_is_not_http_is_a_protocol_error(raw):
    async def handler(reader, writer, _):
        await read_request(reader)
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
        await read_request(reader)
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
        head, body = await read_request(reader)
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
