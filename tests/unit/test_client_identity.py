"""client_ip: REMOTE_ADDR unless the peer is a trusted proxy, then the right-most untrusted hop."""
from types import SimpleNamespace

import pytest
from django.core.exceptions import ImproperlyConfigured

from quotas.client_identity import client_ip, parse_address, parse_networks

TRUSTED = parse_networks(["10.0.0.0/8", "127.0.0.1", "2001:db8::/32"])


def request(remote_addr, forwarded=None):
    meta = {"REMOTE_ADDR": remote_addr}
    if forwarded is not None:
        meta["HTTP_X_FORWARDED_FOR"] = forwarded
    return SimpleNamespace(META=meta)


@pytest.mark.parametrize(
    "remote_addr, forwarded, expected",
    [
        ("203.0.113.9", None, "203.0.113.9"),  # no proxy
        ("203.0.113.9", "1.2.3.4", "203.0.113.9"),  # untrusted peer: its header is ignored
        ("10.1.2.3", None, "10.1.2.3"),  # a trusted proxy that forwards nothing is the client
        ("10.1.2.3", "198.51.100.7", "198.51.100.7"),
        ("10.1.2.3", "6.6.6.6, 198.51.100.7", "198.51.100.7"),  # the client's own spoof is left of it
        ("10.1.2.3", "6.6.6.6, 198.51.100.7, 10.9.9.9", "198.51.100.7"),  # two trusted hops
        ("10.1.2.3", "10.5.5.5, 10.9.9.9", "10.5.5.5"),  # all trusted: the origin is the left-most
        ("10.1.2.3", "garbage, 198.51.100.7", "198.51.100.7"),
        ("10.1.2.3", "198.51.100.7, garbage", "10.1.2.3"),  # a proxy passed junk: it is the last we can name
        ("10.1.2.3", "198.51.100.7:4711", "198.51.100.7"),  # a port some proxies add
        ("10.1.2.3", "[2001:db9::1]:443", "2001:db9::1"),
        ("10.1.2.3", "  ", "10.1.2.3"),
        ("::ffff:10.1.2.3", "198.51.100.7", "198.51.100.7"),  # IPv4-mapped peer
        ("2001:db8::5", "2001:db9::77", "2001:db9::77"),
        ("", None, "unknown"),
        ("not-an-ip", "1.2.3.4", "not-an-ip"),
    ],
)
def test_it_names_the_client(remote_addr, forwarded, expected):
    assert client_ip(request(remote_addr, forwarded), TRUSTED) == expected


def test_without_trusted_proxies_the_header_never_counts():
    assert client_ip(request("127.0.0.1", "9.9.9.9"), ()) == "127.0.0.1"


def test_a_bad_trusted_proxy_setting_fails_loudly():
    with pytest.raises(ImproperlyConfigured):
        parse_networks(["10.0.0.0/8", "ten.zero"])


@pytest.mark.parametrize("text, expected", [("1.2.3.4", "1.2.3.4"), ('"1.2.3.4"', "1.2.3.4"),
                                            ("[::1]", "::1"), ("::1", "::1"), ("x", None)])
def test_it_reads_addresses_as_proxies_write_them(text, expected):
    address = parse_address(text)
    assert (str(address) if address else None) == expected


@pytest.mark.parametrize("prefix, ip, expected", [
    (64, "2001:db8:1:2:aaaa:bbbb:cccc:dddd", "2001:db8:1:2::/64"),
    (64, "2001:db8:1:2::1", "2001:db8:1:2::/64"),
    (48, "2001:db8:1:2::1", "2001:db8:1::/48"),
    (128, "2001:db8:1:2::1", "2001:db8:1:2::1"),
    (64, "198.51.100.7", "198.51.100.7"),  # IPv4 is counted per address
    (64, "unknown", "unknown"),
])
def test_an_ipv6_client_is_its_network_of_the_configured_prefix(settings, prefix, ip, expected):
    from quotas.client_identity import client_group

    settings.CLIENT_IPV6_PREFIX = prefix
    assert client_group(ip) == expected
