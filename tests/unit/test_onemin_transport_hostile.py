"""The upstream transport against a hostile or broken upstream: bad lengths, header injection,
oversized bodies, and the proxy settings it honours."""
from __future__ import annotations

import socket

import httpx
import pytest

from api.upstream.onemin_transport import UpstreamTransport
from tests.unit.loopback_upstream import Handler, answers, get, keep_alive_server, read_request, serve


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

    assert serve(answers(raw))(scenario)["connections"] == 2


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

        serve(answers(raw))(scenario)


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

    serve(answers(raw))(scenario)


def test_https_proxy_from_the_environment_is_used(monkeypatch):
    """HTTPS_PROXY/HTTP_PROXY are honoured as documented: the request goes to the proxy."""
    proxied: list[bytes] = []

    async def proxy(reader, writer, _):
        head, _body = await read_request(reader)
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
            head, _body = await read_request(reader)
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
        await read_request(reader)
        writer.write(big if n == 1 else ok)
        await writer.drain()
        await reader.read()

    assert serve(handler)(scenario)["connections"] == 2
