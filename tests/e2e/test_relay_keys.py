"""Relay keys from creation to revocation: an operator hands them out, clients use them."""
import json
import os
import re
import secrets
from datetime import datetime, timedelta, timezone

import httpx
import openai
import pytest

from tests.openai_schema import validate
from tests.relay_admin import chat, create_relay_key_by_command, managed_env

shared = pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="embedded-backend run is one process")
POOL_KEY = "one-min-pool-key-lifecycle-0001"


@pytest.fixture(scope="module")
def keyed(keyed_relay):
    return keyed_relay


@pytest.fixture(scope="module")
def admin(keyed_admin):
    keyed_admin.pool(main=POOL_KEY)
    return keyed_admin


def sdk(relay, key: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{relay.url}/v1", api_key=key, max_retries=0, timeout=30)


def refused(response: httpx.Response, status: int, words: str) -> bool:
    validate(response.json(), "ErrorResponse")
    return response.status_code == status and words in response.json()["error"]["message"]


def test_a_key_made_by_the_command_works_and_its_holder_never_sees_the_1min_key(keyed, admin, sim):
    key = create_relay_key_by_command(keyed, "alice-cli", "--expires", "2099-12-31")
    assert re.fullmatch(r"rk-[A-Za-z0-9_-]{43}", key)
    with sdk(keyed, key) as client:
        reply = client.chat.completions.with_raw_response.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}])
    validate(json.loads(reply.text), "CreateChatCompletionResponse")
    (received,) = sim.requests_to("/api/chat-with-ai")
    assert received["headers"]["api-key"] == POOL_KEY
    assert key not in json.dumps(received["headers"])


def test_a_key_made_in_the_admin_is_shown_once_then_only_by_its_prefix(keyed, admin, sim):
    key_id, key = admin.add_relay_key("bob-admin")
    assert chat(keyed, key).status_code == 200
    page = admin.page(f"/admin/keys/relaykey/{key_id}/change/")
    assert key[:9] in page and key not in page and key[9:] not in page


def test_a_model_outside_the_keys_list_is_a_403_and_is_not_listed(keyed, admin, sim):
    _, key = admin.add_relay_key("limited", models="gpt-4o-mini\ngpt-4o")
    with sdk(keyed, key) as client:
        with pytest.raises(openai.PermissionDeniedError) as denied:
            client.chat.completions.create(model="open-mistral-nemo", messages=[{"role": "user", "content": "x"}])
        assert {m.id for m in client.models.list()} == {"gpt-4o-mini", "gpt-4o"}
        with pytest.raises(openai.PermissionDeniedError):
            client.models.retrieve("open-mistral-nemo")
        assert client.models.retrieve("gpt-4o").id == "gpt-4o"
    validate(denied.value.response.json(), "ErrorResponse")
    assert denied.value.response.json()["error"]["code"] == "model_not_allowed"
    assert sim.requests_to("/api/chat-with-ai") == []
    assert chat(keyed, key, model="gpt-4o:online").status_code == 200  # web search on an allowed model
    assert chat(keyed, key, model="gpt-4o", stream=True).status_code == 200


def test_a_revoked_key_is_refused_within_seconds(keyed, admin, sim):
    key_id, key = admin.add_relay_key("carol")
    assert chat(keyed, key).status_code == 200
    admin.revoke_relay_key(key_id)
    assert sim.wait_for(lambda: chat(keyed, key).status_code == 401, timeout=10, interval=0.1)
    assert refused(chat(keyed, key), 401, "revoked")
    assert chat(keyed, key).json()["error"]["code"] == "invalid_api_key"


@shared
def test_revocation_reaches_every_relay_process_within_seconds(relay_factory, keyed, admin, sim):
    other = relay_factory(**managed_env(
        DATABASE_URL=keyed.env["DATABASE_URL"], CACHE_KEY_PREFIX=keyed.env["CACHE_KEY_PREFIX"]))
    key_id, key = admin.add_relay_key("dave")
    assert chat(other, key).status_code == 200  # now cached by the other process
    admin.revoke_relay_key(key_id)
    assert sim.wait_for(lambda: chat(other, key).status_code == 401, timeout=10, interval=0.1)


def test_an_expired_key_is_refused(keyed, admin, sim):
    key_id, key = admin.add_relay_key("erin", expires_at=datetime.now(timezone.utc) + timedelta(seconds=4))
    assert chat(keyed, key).status_code == 200
    assert sim.wait_for(lambda: chat(keyed, key).status_code == 401, timeout=15, interval=0.25)
    assert refused(chat(keyed, key), 401, "expired")
    assert "expired" in admin.page("/admin/keys/relaykey/?q=erin")


@pytest.mark.parametrize("headers", [
    {},
    {"Authorization": "Bearer rk-" + secrets.token_urlsafe(32)},
    {"x-api-key": "rk-" + secrets.token_urlsafe(32)},
    {"Authorization": "Bearer rk-too-short"},
], ids=["none", "unknown", "unknown-x-api-key", "malformed"])
def test_missing_unknown_and_foreign_keys_are_401s_in_the_envelope(keyed, sim, headers):
    response = httpx.post(f"{keyed.url}/v1/chat/completions", headers=headers,
                          json={"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "x"}]})
    assert response.status_code == 401
    validate(response.json(), "ErrorResponse")
    assert response.json()["error"]["code"] == "invalid_api_key"
    assert sim.requests == []


def test_the_admin_and_the_command_leave_history_naming_who_acted(keyed, admin):
    create_relay_key_by_command(keyed, "frank-by-hand", "--by", admin.username)
    create_relay_key_by_command(keyed, "frank-by-script")
    key_id, _ = admin.add_relay_key("frank-in-admin")
    admin.revoke_relay_key(key_id)

    def history(name: str) -> str:
        listing = admin.page(f"/admin/keys/relaykey/?q={name}")
        (pk,) = set(re.findall(r"/admin/keys/relaykey/(\d+)/change/", listing))
        return admin.page(f"/admin/keys/relaykey/{pk}/history/")

    by_hand, by_script, in_admin = history("frank-by-hand"), history("frank-by-script"), history("frank-in-admin")
    assert admin.username in by_hand and "Created relay key (manage.py" in by_hand
    assert "manage.py" in by_script and "Created relay key" in by_script
    assert admin.username in in_admin and "Added." in in_admin and "Revoked." in in_admin
    everything = admin.page("/admin/admin/logentry/?q=frank")
    assert everything.count("frank-") >= 4 and "manage.py" in everything and admin.username in everything


def test_last_used_is_recorded_off_the_request_path(keyed, admin, sim):
    key_id, key = admin.add_relay_key("gina")
    listing = lambda: admin.page("/admin/keys/relaykey/?q=gina")  # noqa: E731
    assert re.search(r'class="field-last_used_at nowrap">-<', listing())
    assert chat(keyed, key).status_code == 200
    assert sim.wait_for(lambda: not re.search(r'class="field-last_used_at nowrap">-<', listing()), timeout=10, interval=0.1)
