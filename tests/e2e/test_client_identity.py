"""Client identity: X-Forwarded-For counts only when the peer is a trusted proxy."""
import uuid

import httpx

from tests.quota_fixtures import RPM, Client, limited, limited_relays  # noqa: F401
from tests.relay_operator import fresh_ip, fresh_key, usage_of, wait_for_rows


def test_behind_a_trusted_proxy_the_right_most_untrusted_hop_is_the_client(limited, sim):
    caller = Client([limited])
    spoofed = fresh_ip()
    response = httpx.get(f"{limited.url}/v1/models", headers={
        "Authorization": f"Bearer {caller.key}", "X-Forwarded-For": f"{spoofed}, {caller.ip}, 127.0.0.1"})
    assert response.status_code == 200
    (row,) = wait_for_rows(lambda: usage_of(limited, caller.fingerprint), 1)
    assert row["client_ip"] == caller.ip


def test_each_forwarded_client_has_its_own_limit(limited, sim):
    first, second = Client([limited]), Client([limited])
    second.key = first.key  # one key, two clients: the IP counters differ, the key's is shared
    assert first.chat().headers["x-ratelimit-remaining-requests"] == str(RPM - 1)
    assert second.chat().headers["x-ratelimit-remaining-requests"] == str(RPM - 2)
    other_key = Client([limited], ip=first.ip)
    assert other_key.chat().headers["x-ratelimit-remaining-requests"] == str(RPM - 2)


def test_a_spoofed_header_from_an_untrusted_peer_changes_nothing(relay, sim):
    key = fresh_key()
    response = httpx.get(f"{relay.url}/v1/models", headers={
        "Authorization": f"Bearer {key}", "X-Forwarded-For": fresh_ip()})
    assert response.status_code == 200
    from core.identity import fingerprint

    (row,) = wait_for_rows(lambda: usage_of(relay, fingerprint(key)), 1)
    assert row["client_ip"] == "127.0.0.1"


def fresh_ipv6_network() -> str:
    """A /64 of the documentation range no other test uses, as its first four groups."""
    n = uuid.uuid4().int
    return f"2001:db8:{n % 65536:x}:{(n >> 16) % 65536:x}"


def test_addresses_within_one_ipv6_64_are_one_client(limited, sim):
    network = fresh_ipv6_network()
    rotating = [Client([limited], ip=f"{network}:{n:x}::{n + 1:x}") for n in range(RPM + 5)]
    statuses = [caller.chat().status_code for caller in rotating]  # a new key and address each time
    assert statuses == [200] * RPM + [429] * 5
    assert Client([limited], ip=f"{fresh_ipv6_network()}::1").chat().status_code == 200  # another /64
    (row,) = wait_for_rows(lambda: usage_of(limited, rotating[0].fingerprint), 1)
    assert row["client_ip"] == f"{network}::/64"
