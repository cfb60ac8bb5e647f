"""Who is calling: the one `client_ip(request)`, trusting X-Forwarded-For only from TRUSTED_PROXIES,
and `client_group(ip)`, the identity limits and usage count by (an IPv6 client is its network)."""
from __future__ import annotations

import ipaddress
from functools import lru_cache
from typing import Any, Iterable

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(values: Iterable[str]) -> tuple[IPNetwork, ...]:
    """CIDRs (a bare address is a /32 or /128); a bad entry fails loudly at start-up."""
    networks = []
    for value in values:
        try:
            networks.append(ipaddress.ip_network(value.strip(), strict=False))
        except ValueError:
            raise ImproperlyConfigured(f"TRUSTED_PROXIES: {value!r} is not an IP address or CIDR") from None
    return tuple(networks)


@lru_cache(maxsize=4)
def _trusted(values: tuple[str, ...]) -> tuple[IPNetwork, ...]:
    return parse_networks(values)


def trusted_networks() -> tuple[IPNetwork, ...]:
    return _trusted(tuple(settings.TRUSTED_PROXIES))


def parse_address(value: str) -> IPAddress | None:
    """An address as proxies write it: bare, `[v6]`, `[v6]:port` or `v4:port`; None if garbage."""
    text = value.strip().strip('"')
    if text.startswith("["):
        text = text[1:].split("]", 1)[0]
    elif text.count(":") == 1:
        text = text.split(":", 1)[0]  # IPv4 with a port (some proxies add one)
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _is_trusted(address: IPAddress, networks: tuple[IPNetwork, ...]) -> bool:
    return any(address.version == n.version and address in n for n in networks)


def client_ip(request: Any, networks: tuple[IPNetwork, ...] | None = None) -> str:
    """REMOTE_ADDR, unless that peer is a trusted proxy: then the right-most untrusted hop.

    Each trusted proxy appends the address it received the request from, so reading the
    X-Forwarded-For list from the right and skipping trusted hops reaches the first address
    no trusted party vouches for; anything further left was written by the client and is
    ignored. If every hop is trusted, the left-most one is the origin.
    """
    networks = trusted_networks() if networks is None else networks
    meta = request.META
    peer_text = meta.get("REMOTE_ADDR") or ""
    peer = parse_address(peer_text)
    if peer is None:
        return peer_text or "unknown"
    if not networks or not _is_trusted(peer, networks):
        return str(peer)
    hops = [hop for hop in meta.get("HTTP_X_FORWARDED_FOR", "").split(",") if hop.strip()]
    current = peer
    for hop in reversed(hops):
        address = parse_address(hop)
        if address is None:
            # A trusted proxy passed on something that is not an address: the proxy itself is
            # the last party we can name.
            return str(current)
        current = address
        if not _is_trusted(address, networks):
            return str(address)
    return str(current)


@lru_cache(maxsize=4096)
def _group(ip: str, prefix: int) -> str:
    address = parse_address(ip)
    if not isinstance(address, ipaddress.IPv6Address) or prefix >= 128:
        return ip
    return str(ipaddress.IPv6Network((address, prefix), strict=False))


def client_group(ip: str) -> str:
    """The client an address belongs to: an IPv4 address is itself; an IPv6 address is its
    network of CLIENT_IPV6_PREFIX bits ("2001:db8:1:2::/64"), since one host or subscriber is
    handed a whole /64 and can rotate through it at will."""
    return _group(ip, settings.CLIENT_IPV6_PREFIX)
