"""Relay keys on the endpoints beyond chat: each caller owns its stored responses, model limits
hold for models a service picks itself, and failover works for every 1min.ai call."""
import base64

import httpx
import openai
import pytest

from tests.e2e.test_vision import image_message, tiny_png
from tests.openai_schema import validate
from tests.relay_admin import chat

POOL = {"a": "pool-key-endpoints-a", "b": "pool-key-endpoints-b"}


@pytest.fixture(scope="module")
def keyed(keyed_relay, keyed_admin):
    keyed_admin.pool(**POOL)
    return keyed_relay


def auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def test_stored_responses_belong_to_the_relay_key_not_to_the_pool_key(keyed, keyed_admin, sim):
    _, alice = keyed_admin.add_relay_key("alice-responses")
    _, bob = keyed_admin.add_relay_key("bob-responses")
    created = httpx.post(f"{keyed.url}/v1/responses", headers=auth(alice), json={"model": "gpt-4o-mini", "input": "hi"})
    assert created.status_code == 200, created.text
    response_id = created.json()["id"]
    mine = httpx.get(f"{keyed.url}/v1/responses/{response_id}", headers=auth(alice))
    validate(mine.json(), "Response")
    theirs = httpx.get(f"{keyed.url}/v1/responses/{response_id}", headers=auth(bob))
    assert theirs.status_code == 404
    assert httpx.delete(f"{keyed.url}/v1/responses/{response_id}", headers=auth(bob)).status_code == 404
    follow_up = httpx.post(f"{keyed.url}/v1/responses", headers=auth(bob),
                           json={"model": "gpt-4o-mini", "input": "more", "previous_response_id": response_id})
    assert follow_up.status_code == 404


def test_a_model_a_service_picks_itself_is_held_to_the_keys_list(keyed, keyed_admin, sim):
    _, key = keyed_admin.add_relay_key("images-limited", models="dall-e-3")
    default_model = httpx.post(f"{keyed.url}/v1/images/generations", headers=auth(key), json={"prompt": "a cat"})
    assert default_model.status_code == 403, default_model.text
    validate(default_model.json(), "ErrorResponse")
    assert sim.requests_to("/api/features") == []
    allowed = httpx.post(f"{keyed.url}/v1/images/generations", headers=auth(key),
                         json={"prompt": "a cat", "model": "dall-e-3"})
    assert allowed.status_code == 200, allowed.text


def test_image_uploads_fail_over_too(keyed, keyed_admin, sim):
    _, key = keyed_admin.add_relay_key("vision-user")
    sim.script({"status": 429}, path="/api/assets", times=1)
    uri = "data:image/png;base64," + base64.b64encode(tiny_png()).decode()
    response = chat(keyed, key, messages=image_message(uri))
    assert response.status_code == 200, response.text
    uploads = [r["headers"]["api-key"] for r in sim.requests_to("/api/assets")]
    (asked,) = sim.requests_to("/api/chat-with-ai")
    assert len(uploads) == 2 and uploads[0] != uploads[1]
    assert asked["headers"]["api-key"] == uploads[1]  # the request stays on the key that worked


def test_audio_uploads_keep_their_size_guard_and_the_model_list_still_holds(keyed, keyed_admin, sim):
    from tests import media_files as media

    _, key = keyed_admin.add_relay_key("audio-limited", models="whisper-1")
    with openai.OpenAI(base_url=f"{keyed.url}/v1", api_key=key, max_retries=0) as client:
        text = client.audio.transcriptions.create(model="whisper-1", file=("a.wav", media.wav(1.0)))
        assert text.text.startswith("Simulated transcript of ")
        with pytest.raises(openai.PermissionDeniedError) as denied:
            client.audio.transcriptions.create(model="gpt-4o-transcribe", file=("a.wav", media.wav(1.0)))
    validate(denied.value.response.json(), "ErrorResponse")
    assert [r["json"]["model"] for r in sim.requests_to("/api/features")] == ["whisper-1"]
