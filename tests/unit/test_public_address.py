"""Only globally routable addresses may be fetched on a client's behalf; IPv4 hidden in IPv6 is judged as IPv4."""
import pytest

from api.upstream.public_address import is_public_address


@pytest.mark.parametrize(
    "address",
    ["127.0.0.1", "10.0.0.1", "172.16.5.4", "192.168.1.1", "169.254.169.254", "100.64.0.1", "0.0.0.0",
     "240.0.0.1", "255.255.255.255", "::", "::1", "fe80::1", "fd00:ec2::254", "fc00::1", "::ffff:127.0.0.1",
     "::ffff:10.0.0.1", "2002:7f00:1::1", "2002:a9fe:a9fe::", "224.0.0.1", "ff02::1"],
)
def test_it_refuses_private_loopback_link_local_and_metadata_addresses(address):
    assert not is_public_address(address)


@pytest.mark.parametrize(
    "address",
    [
        "64:ff9b::a9fe:a9fe",  # NAT64 form of the metadata address 169.254.169.254
        "64:ff9b::a00:1",  # NAT64 form of 10.0.0.1
        "64:ff9b::7f00:1",  # NAT64 form of 127.0.0.1
        "64:ff9b:1::a00:1",  # RFC 8215 local-use NAT64 prefix: never public
        "::127.0.0.1",  # IPv4-compatible loopback
        "::a9fe:a9fe",  # IPv4-compatible metadata address
        "::ffff:0:7f00:1",  # IPv4-translated (SIIT) loopback
        "fec0::1",  # deprecated site-local
        "2001:0:4136:e378:8000:63bf:3fff:fdd2",  # Teredo with a documentation-range client
    ],
)
def test_it_decodes_nat64_compatible_translated_and_site_local_forms(address):
    assert not is_public_address(address)


@pytest.mark.parametrize(
    "address", ["93.184.216.34", "8.8.8.8", "2606:4700:4700::1111", "64:ff9b::808:808", "::ffff:8.8.8.8",
                "2002:808:808::1"],
)
def test_it_allows_public_addresses_in_every_form(address):
    assert is_public_address(address)
