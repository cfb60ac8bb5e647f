"""Image URLs cannot turn the relay against its own network: every non-public range is refused,
directly or through a redirect, the checked address is the one connected to, size is capped.

Safety net: the relay under test sends any non-loopback HTTP through a proxy on a closed loopback
port, so even a broken guard could not send a packet to a private address from this machine.
"""
from __future__ import annotations

import asyncio
import base64
import struct
import zlib

import openai
import pytest

from tests.relay_process import free_port

CLOSED = free_port()


def tiny_png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    raw = b"\x00\xff\x00\x00\xff\x00\x00" * 2
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 2, 2, 8, 2, 0, 0, 0)) + chunk(
        b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


@pytest.fixture(scope="module")
def strict(relay_factory, simulator):
    proxy = f"http://127.0.0.1:{CLOSED}"
    return relay_factory(
        IMAGE_FETCH_ALLOW_PRIVATE="false",
        # Only the simulator's own address and port, so a first hop can be made at all here.
        IMAGE_FETCH_PRIVATE_ALLOWLIST=f"127.0.0.1:{simulator.port}",
        IMAGE_FETCH_MAX_BYTES="2048",
        HTTP_PROXY=proxy, HTTPS_PROXY=proxy, ALL_PROXY=proxy, NO_PROXY="127.0.0.1,localhost",
    )


@pytest.fixture
def strict_client(strict, sim):
    with openai.OpenAI(base_url=f"{strict.url}/v1", api_key="sk-ssrf", max_retries=0, timeout=20) as c:
        yield c


def ask_about(client, url: str):
    return client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": [
        {"type": "text", "text": "What is this?"}, {"type": "image_url", "image_url": {"url": url}}]}])


REFUSED = {
    "IPv4 loopback, another port": f"http://127.0.0.1:{CLOSED}/a.png",
    "IPv4 loopback, elsewhere in 127/8": "http://127.9.9.9/a.png",
    "localhost by name": f"http://localhost:{CLOSED}/a.png",
    "IPv4 loopback as a decimal integer": "http://2130706433/a.png",
    "IPv4 loopback in hex": "http://0x7f000001/a.png",
    "IPv6 loopback": "http://[::1]/a.png",
    "unspecified": "http://0.0.0.0/a.png",
    "private 10/8": "http://10.0.0.1/a.png",
    "private 172.16/12": "http://172.31.255.254/a.png",
    "private 192.168/16": "http://192.168.1.1/a.png",
    "shared address space 100.64/10": "http://100.64.0.1/a.png",
    "IPv4 link-local": "http://169.254.1.1/a.png",
    "cloud metadata (IPv4)": "http://169.254.169.254/latest/meta-data/",
    "IPv6 link-local": "http://[fe80::1]/a.png",
    "IPv6 unique-local fc00::/7": "http://[fc00::1]/a.png",
    "IPv6 unique-local fd": "http://[fd12:3456:789a::1]/a.png",
    "cloud metadata (IPv6, AWS)": "http://[fd00:ec2::254]/latest/meta-data/",
    "IPv4-mapped private": "http://[::ffff:10.0.0.1]/a.png",
    "IPv4-mapped metadata": "http://[::ffff:169.254.169.254]/",
    "6to4 of loopback": "http://[2002:7f00:1::1]/a.png",
}


@pytest.mark.parametrize("url", list(REFUSED.values()), ids=list(REFUSED))
def test_non_public_addresses_are_refused(strict_client, sim, url):
    with pytest.raises(openai.BadRequestError) as caught:
        ask_about(strict_client, url)
    assert caught.value.code == "invalid_image_url"
    assert "non-public address" in caught.value.message
    assert sim.requests_to("/api/assets") == [] and sim.requests_to("/api/chat-with-ai") == []


REDIRECT_TARGETS = {
    "IPv4 loopback, another port": f"http://127.0.0.1:{CLOSED}/a.png",
    "IPv6 loopback": "http://[::1]/a.png",
    "private 10/8": "http://10.1.2.3/a.png",
    "cloud metadata": "http://169.254.169.254/latest/meta-data/",
    "IPv6 unique-local": "http://[fd00::1]/a.png",
}


@pytest.mark.parametrize("target", list(REDIRECT_TARGETS.values()), ids=list(REDIRECT_TARGETS))
@pytest.mark.parametrize("status", [302, 307])
def test_redirects_to_non_public_addresses_are_refused(strict_client, sim, target, status):
    with pytest.raises(openai.BadRequestError) as caught:
        ask_about(strict_client, sim.redirect_url(target, status=status))
    assert "non-public address" in caught.value.message
    assert len(sim.requests_to("/redirect")) == 1  # the first hop was allowed and fetched
    assert sim.requests_to("/api/assets") == []


def test_an_allowed_address_is_fetched_directly_and_through_a_redirect(strict_client, sim):
    url = sim.publish("cat.png", tiny_png(), "image/png")
    ask_about(strict_client, url)
    ask_about(strict_client, sim.redirect_url(url))
    assert len(sim.requests_to("/api/assets")) == 2


def test_an_image_over_the_size_cap_is_refused(strict_client, sim):
    url = sim.publish("big.png", tiny_png() + b"\x00" * 4096, "image/png")
    with pytest.raises(openai.BadRequestError) as caught:
        ask_about(strict_client, url)
    assert "larger than 2048 bytes" in caught.value.message
    assert sim.requests_to("/api/assets") == []


def test_a_data_uri_needs_no_fetch_and_is_not_affected(strict_client, sim):
    ask_about(strict_client, "data:image/png;base64," + base64.b64encode(tiny_png()).decode())
    assert len(sim.requests_to("/api/assets")) == 1


def test_the_fetcher_connects_to_the_address_it_checked_without_a_second_lookup(sim, settings):
    """A name only our fake resolver knows is fetched: the connection used the checked address."""
    from api.upstream import url_fetcher

    settings.IMAGE_FETCH_ALLOW_PRIVATE = False
    settings.IMAGE_FETCH_PRIVATE_ALLOWLIST = [f"127.0.0.1:{sim.port}"]
    url = sim.publish("pinned.png", tiny_png(), "image/png").replace("127.0.0.1", "images.invalid")
    lookups: list[str] = []

    async def fetch():
        loop = asyncio.get_running_loop()

        async def fake_getaddrinfo(host, port, **kwargs):
            lookups.append(host)
            return [(2, 1, 6, "", ("127.0.0.1", port))]

        loop.getaddrinfo = fake_getaddrinfo
        return await url_fetcher.fetch(url)

    data, _ = asyncio.run(fetch())
    assert data == tiny_png() and lookups == ["images.invalid"]
    (fetched,) = sim.requests_to("/public/pinned.png")
    assert fetched["headers"]["host"] == f"images.invalid:{sim.port}"  # Host keeps the name
