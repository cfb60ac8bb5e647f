"""Admin-managed quotas: blocks, allowed models and policy changes reach every process within seconds."""
import time
import uuid

from tests.openai_schema import validate
from tests.quota_fixtures import Client, assign_policy, limited, limited_relays, wait_until_applied  # noqa: F401
from tests.relay_operator import admin_client, admin_post, manage


def wait_for_status(relays, caller: Client, status: int, timeout: float = 10.0):
    """Poll each relay until the caller's next call answers `status`; return the last response."""
    deadline = time.monotonic() + timeout
    for relay in relays:
        while (response := caller.chat(relay, max_tokens=1)).status_code != status:
            assert time.monotonic() < deadline, f"still {response.status_code}: {response.text}"
            time.sleep(0.05)  # polling with a deadline
    return response


def test_an_ip_blocked_in_the_admin_is_refused_by_every_process_and_unblocked_again(limited_relays, sim):
    caller = Client(limited_relays)
    assert caller.chat().status_code == 200
    admin = admin_client(limited_relays[0])
    saved = admin_post(admin, "/admin/quotas/blockedclient/add/",
                       {"kind": "ip", "target": caller.ip, "note": "abuse", "_save": "Save"})
    assert saved.status_code == 302, saved.text
    refused = wait_for_status(limited_relays, caller, 403)
    validate(refused.json(), "ErrorResponse")
    assert refused.json()["error"]["code"] == "client_blocked"
    assert "abuse" in refused.json()["error"]["message"]
    assert "x-ratelimit-limit-requests" not in refused.headers  # refused before anything is counted
    manage(limited_relays[0], "quota", "unblock", "ip", caller.ip)
    wait_for_status(limited_relays, caller, 200)


def test_a_key_blocked_by_fingerprint_is_refused_whatever_its_address(limited_relays, sim):
    caller = Client(limited_relays)
    manage(limited_relays[0], "quota", "block", "key", caller.fingerprint)
    wait_for_status(limited_relays, caller, 403)
    assert Client(limited_relays, key=caller.key).chat().status_code == 403


def test_a_policy_limits_its_clients_to_the_models_it_allows(limited_relays, sim):
    caller = Client(limited_relays)
    assign_policy(limited_relays[0], caller, f"mini-only-{uuid.uuid4().hex[:8]}")
    wait_until_applied(limited_relays, caller)
    refused = caller.chat(model="gpt-4o")
    assert refused.status_code == 403
    assert (refused.json()["error"]["code"], refused.json()["error"]["param"]) == ("model_not_allowed", "model")
    assert caller.chat(model="gpt-4o-mini").status_code == 200
    assert Client(limited_relays).chat(model="gpt-4o").status_code == 200  # others keep the default


def test_a_changed_policy_takes_effect_in_every_process(limited_relays, sim):
    caller = Client(limited_relays)
    name = f"tight-{uuid.uuid4().hex[:8]}"
    assign_policy(limited_relays[0], caller, name, "--rpm", "100")
    wait_until_applied(limited_relays, caller)
    first = caller.chat()
    assert first.headers["x-ratelimit-limit-requests"] == "20"  # the IP's default is tighter than 100
    manage(limited_relays[0], "quota", "policy", name, "--rpm", "3", "--assign", f"ip:{caller.ip}")
    deadline = time.monotonic() + 10
    for relay in limited_relays:
        while caller.chat(relay, max_tokens=1).headers.get("x-ratelimit-limit-requests") != "3":
            assert time.monotonic() < deadline
            time.sleep(0.05)  # polling with a deadline


def test_a_refused_call_is_recorded_with_the_model_it_asked_for(limited_relays, sim):
    from tests.relay_operator import usage_of, wait_for_rows

    caller = Client(limited_relays)
    manage(limited_relays[0], "quota", "policy", f"one-rpm-{uuid.uuid4().hex[:8]}", "--rpm", "1",
           "--assign", f"key:{caller.fingerprint}")
    deadline = time.monotonic() + 10
    while caller.chat(max_tokens=1).status_code != 429:  # the policy reaches the process, then refuses
        assert time.monotonic() < deadline
    rows = wait_for_rows(lambda: [r for r in usage_of(limited_relays[0], caller.fingerprint) if r["status"] == 429], 1)
    assert rows and {row["model"] for row in rows} == {"gpt-4o-mini"}
