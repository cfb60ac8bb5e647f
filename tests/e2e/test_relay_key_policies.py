"""A relay key's quota policy governs its limits, and its usage is counted under its own identity."""
import time
import uuid

from tests.relay_admin import chat
from tests.relay_operator import manage

POOL_KEY = "one-min-pool-key-policies-0001"


def test_a_relay_keys_named_policy_sets_its_request_limit(keyed_relay, keyed_admin, sim):
    keyed_admin.pool(main=POOL_KEY)
    name = f"tiny-{uuid.uuid4().hex[:6]}"
    manage(keyed_relay, "quota", "policy", name, "--rpm", "2")
    _, key = keyed_admin.add_relay_key(f"small-{name}", policy=name)
    deadline = time.monotonic() + 10
    # Policy changes reach the process within seconds; poll until the 2-per-minute limit shows.
    while (first := chat(keyed_relay, key)).headers.get("x-ratelimit-limit-requests") != "2":
        assert time.monotonic() < deadline, first.headers
        time.sleep(0.1)
    statuses = [chat(keyed_relay, key).status_code for _ in range(3)]
    assert statuses.count(429) >= 2 and statuses[0] in (200, 429)
    other_name = f"other-{name}"
    _, unlimited = keyed_admin.add_relay_key(other_name)
    assert chat(keyed_relay, unlimited).status_code == 200  # another key keeps the default policy
