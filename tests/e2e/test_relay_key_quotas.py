"""Limits and usage per relay key: its own quota policy, usage pages that name it, and policy
changes by command in the admin's history."""
import re
import uuid

import pytest

from core.identity import fingerprint
from tests.openai_schema import validate
from tests.relay_admin import chat, create_relay_key_by_command, manage

POOL = {"main": "pool-key-quotas-0001"}


@pytest.fixture(scope="module")
def keyed(keyed_relay, keyed_admin):
    keyed_admin.pool(**POOL)
    return keyed_relay


def new_policy(relay, *flags: str) -> str:
    name = f"per-key-{uuid.uuid4().hex[:8]}"
    done = manage(relay, "quota", "policy", name, *flags)
    assert done.returncode == 0, done.stderr
    return name


def test_a_relay_keys_policy_limits_that_key_and_no_other(keyed, sim):
    policy = new_policy(keyed, "--rpm", "3", "--models", "gpt-4o-mini")
    limited = create_relay_key_by_command(keyed, "limited-by-policy", "--policy", policy)
    free = create_relay_key_by_command(keyed, "on-the-default-policy")
    # The policy's model list is the probe that it has reached the relay (a refusal is not counted).
    assert sim.wait_for(lambda: chat(keyed, limited, model="gpt-4o").status_code == 403, timeout=10, interval=0.1)
    answers = [chat(keyed, limited) for _ in range(4)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert answers[0].headers["x-ratelimit-limit-requests"] == "3"
    validate(answers[-1].json(), "ErrorResponse")
    assert chat(keyed, free, model="gpt-4o").status_code == 200
    assert chat(keyed, free).headers["x-ratelimit-limit-requests"] == "100000"


def test_an_unknown_policy_name_is_refused_by_the_command(keyed):
    refused = manage(keyed, "create_relay_key", "--name", "x", "--policy", "no-such-policy")
    assert refused.returncode != 0 and "No quota policy named 'no-such-policy'" in refused.stderr


def test_the_usage_pages_name_each_relay_key(keyed, keyed_admin, sim):
    name = f"usage-holder-{uuid.uuid4().hex[:6]}"
    _, key = keyed_admin.add_relay_key(name)
    for _ in range(2):
        assert chat(keyed, key).status_code == 200

    def row() -> str:
        page = keyed_admin.page(f"/admin/quotas/usagebykey/?q={name}")  # found by its name
        return next((r for r in re.findall(r"<tr[^>]*>.*?</tr>", page, re.S) if name in r), "")

    def requests_counted() -> str:
        return (re.findall(r"<td>(\d+)</td>", row()) or ["0"])[0]

    assert sim.wait_for(lambda: requests_counted() == "2", timeout=10, interval=0.2)
    assert fingerprint(key) in row() and key not in row()
    # Narrowed to this key: on a shared database other tests' keys may fill the top ten.
    assert name in keyed_admin.page(f"/admin/quotas/usagedashboard/?q={name}")


def test_policy_changes_by_command_are_in_the_admins_history(keyed, keyed_admin):
    policy = new_policy(keyed, "--rpm", "50")
    done = manage(keyed, "quota", "--by", keyed_admin.username, "policy", policy, "--rpm", "60")
    assert done.returncode == 0, done.stderr
    history = keyed_admin.page(f"/admin/admin/logentry/?q={policy}")
    assert "Created policy" in history and "Changed policy" in history
    assert "manage.py" in history and keyed_admin.username in history
