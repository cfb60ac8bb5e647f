"""AUTH_TOKEN, the original relay's single-key gate; what GET /v1/models can know about a key; and
the settings that stop a relay at `manage.py check`."""
from __future__ import annotations

import os
import subprocess
import sys
import uuid

import httpx
import openai
import pytest

from tests.conftest import TEST_KEY
from tests.relay_admin import ENCRYPTION_KEY
from tests.relay_process import ROOT

THE_KEY = "sk-the-one-1min-key-0123456789"
HI = [{"role": "user", "content": "hi"}]


def sdk(relay, key: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{relay.url}/v1", api_key=key, max_retries=0, timeout=30)


@pytest.fixture(scope="module")
def gated(relay_factory):
    return relay_factory(AUTH_TOKEN=THE_KEY)


def test_with_auth_token_only_that_key_is_accepted_and_it_is_what_1min_ai_receives(gated, sim):
    with sdk(gated, THE_KEY) as client:
        assert client.chat.completions.create(model="gpt-4o-mini", messages=HI).choices[0].message.content
        assert "gpt-4o-mini" in {m.id for m in client.models.list()}
    assert [r["headers"]["api-key"] for r in sim.requests_to("/api/chat-with-ai")] == [THE_KEY]
    with sdk(gated, TEST_KEY) as client:  # a key 1min.ai would accept, but not the relay's one
        with pytest.raises(openai.AuthenticationError) as caught:
            client.chat.completions.create(model="gpt-4o-mini", messages=HI)
        assert caught.value.body["code"] == "invalid_api_key"
        with pytest.raises(openai.AuthenticationError):
            client.models.list()
    assert httpx.get(f"{gated.url}/v1/models").status_code == 401  # no key at all
    assert len(sim.requests_to("/api/chat-with-ai")) == 1


def test_models_list_refuses_a_passthrough_key_once_1min_ai_has_refused_it(relay, sim):
    bad = f"bad-{uuid.uuid4().hex}"  # the simulator refuses keys starting with "bad"
    with sdk(relay, bad) as client:
        # The catalogue costs 1min.ai nothing and needs no key: the relay cannot know yet.
        assert client.models.list().data
        with pytest.raises(openai.AuthenticationError):
            client.chat.completions.create(model="gpt-4o-mini", messages=HI)
        with pytest.raises(openai.AuthenticationError) as caught:
            client.models.list()  # now it knows
        assert "rejected this API key" in caught.value.message
        with pytest.raises(openai.AuthenticationError):
            client.models.retrieve("gpt-4o-mini")
    with sdk(relay, TEST_KEY) as client:
        assert client.models.list().data  # other keys are unaffected


def check(**env: str) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "REDIS_URL"))}
    return subprocess.run([sys.executable, "manage.py", "check"], cwd=ROOT, capture_output=True, text=True,
                          env={**base, "DJANGO_SETTINGS_MODULE": "relay_site.settings", **env}, timeout=120)


@pytest.mark.parametrize("env, check_id, says", [
    ({"AUTH_TOKEN": THE_KEY, "RELAY_AUTH_MODE": "managed", "RELAY_ENCRYPTION_KEY": ENCRYPTION_KEY},
     "relay.E041", "RELAY_AUTH_MODE=managed"),
    ({"AUTH_TOKEN": THE_KEY, "RELAY_AUTH_MODE": "both", "RELAY_ENCRYPTION_KEY": ENCRYPTION_KEY},
     "relay.E041", "RELAY_AUTH_MODE=both"),
    ({"MODEL_ALIASES": "claude-sonnet-4-5=gpt-4o-mini,gpt-4"}, "relay.E040", "`gpt-4` is not `alias=target`"),
])
def test_a_contradictory_or_malformed_setting_stops_the_relay_at_check(env, check_id, says):
    result = check(**env)
    assert result.returncode != 0 and check_id in result.stderr and says in result.stderr
    assert THE_KEY not in result.stderr  # the token is a 1min.ai key: never echoed


def test_the_same_settings_done_right_pass_check():
    assert check(AUTH_TOKEN=THE_KEY, RELAY_AUTH_MODE="passthrough",
                 MODEL_ALIASES="claude-sonnet-4-5=gpt-4o-mini").returncode == 0
