"""Fetching client-supplied URLs without letting clients reach private networks (SSRF guard).

This is the only outbound HTTP besides api/upstream/onemin_client.py: it talks to arbitrary hosts, not
1min.ai, and must pin each connection to an address it has checked.
"""
from __future__ import annotations

import asyncio
import socket
from urllib.parse import urljoin, urlsplit, urlunsplit

import httpx
from django.conf import settings

from core.errors import InvalidRequest
from api.upstream.public_address import is_public_address


def _allowlisted(address: str, port: int) -> bool:
    """An operator's explicit exception for one private address and port (an internal image host)."""
    literal = f"[{address}]" if ":" in address else address
    return f"{literal}:{port}" in settings.IMAGE_FETCH_PRIVATE_ALLOWLIST


def _reject(url: str, why: str, code: str = "invalid_image_url") -> InvalidRequest:
    return InvalidRequest(f"Image URL {url[:200]} cannot be fetched: {why}.", param="image_url", code=code)


async def _resolve(host: str, port: int) -> str:
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror:
        raise InvalidRequest(f"The host {host} could not be resolved.", param="image_url", code="invalid_image_url") from None
    addresses = [info[4][0] for info in infos]
    if not addresses:
        raise InvalidRequest(f"The host {host} has no address.", param="image_url", code="invalid_image_url")
    if not settings.IMAGE_FETCH_ALLOW_PRIVATE:
        # Every address must be public: a name that also resolves privately is refused outright.
        for address in addresses:
            if not is_public_address(address) and not _allowlisted(address, port):
                raise InvalidRequest(
                    f"The host {host} resolves to a non-public address.",
                    param="image_url",
                    code="invalid_image_url",
                )
    return addresses[0]


async def fetch(url: str, max_bytes: int | None = None) -> tuple[bytes, str]:
    """GET `url` (http/https), re-checking every redirect; returns (body, content type)."""
    max_bytes = max_bytes or settings.IMAGE_FETCH_MAX_BYTES
    try:
        async with asyncio.timeout(settings.IMAGE_FETCH_TIMEOUT):
            return await _fetch(url, max_bytes)
    except TimeoutError:
        raise _reject(url, "it took too long") from None


async def _fetch(url: str, max_bytes: int) -> tuple[bytes, str]:
    async with httpx.AsyncClient(follow_redirects=False, timeout=settings.IMAGE_FETCH_TIMEOUT) as http:
        for _ in range(settings.IMAGE_FETCH_MAX_REDIRECTS + 1):
            parts = urlsplit(url)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise _reject(url, "only http and https URLs are accepted")
            port = parts.port or (443 if parts.scheme == "https" else 80)
            address = await _resolve(parts.hostname, port)
            # Connect to the checked address (no second lookup); Host and SNI keep the name.
            literal = f"[{address}]" if ":" in address else address
            pinned = urlunsplit((parts.scheme, f"{literal}:{port}", parts.path or "/", parts.query, ""))
            host_header = parts.hostname if parts.port is None else f"{parts.hostname}:{parts.port}"
            extensions = {"sni_hostname": parts.hostname} if parts.scheme == "https" else {}
            request = http.build_request("GET", pinned, headers={"Host": host_header}, extensions=extensions)
            try:
                response = await http.send(request, stream=True)
            except httpx.HTTPError:
                raise _reject(url, "the server could not be reached") from None
            try:
                if response.status_code in (301, 302, 303, 307, 308):
                    location = response.headers.get("location")
                    if not location:
                        raise _reject(url, "a redirect without a location")
                    url = urljoin(url, location)
                    continue
                if response.status_code != 200:
                    raise _reject(url, f"the server answered HTTP {response.status_code}")
                declared = response.headers.get("content-length", "")
                if declared.isdigit() and int(declared) > max_bytes:
                    raise _reject(url, f"it is larger than {max_bytes} bytes", "image_too_large")  # nothing read
                body = bytearray()
                async for chunk in response.aiter_bytes():
                    body += chunk
                    if len(body) > max_bytes:
                        raise _reject(url, f"it is larger than {max_bytes} bytes", "image_too_large")
                return bytes(body), response.headers.get("content-type", "")
            except httpx.HTTPError:
                raise _reject(url, "the download failed") from None
            finally:
                await response.aclose()
    raise _reject(url, "too many redirects")
