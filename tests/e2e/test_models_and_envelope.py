"""GET /v1/models, GET /, and the one error envelope for everything under /v1/."""
import httpx
import openai
import pytest

from tests.conftest import TEST_KEY
from tests.openai_schema import validate

AUTH = {"Authorization": f"Bearer {TEST_KEY}"}


def test_models_list_validates_and_hides_disabled_models(relay, sim):
    response = httpx.get(f"{relay.url}/v1/models", headers=AUTH)
    body = response.json()
    validate(body, "ListModelsResponse")
    ids = {m["id"] for m in body["data"]}
    assert {"gpt-4o-mini", "open-mistral-nemo", "gpt-image-1-mini", "whisper-1", "tts-1", "gemini-2.5-flash"} <= ids
    assert "claude-retired-1" not in ids and "black-forest-labs/flux-schnell" not in ids
    by_id = {m["id"]: m for m in body["data"]}
    assert by_id["gpt-4o-mini"]["capabilities"]["vision"] is True
    assert by_id["open-mistral-nemo"]["capabilities"]["vision"] is False
    assert by_id["whisper-1"]["features"] == ["transcription", "translation"]
    assert isinstance(by_id["gpt-4o-mini"]["context_window"], int)


def test_models_retrieve_by_id_including_ids_with_slashes(client, sim):
    model = client.models.retrieve("gpt-4o-mini")
    assert model.id == "gpt-4o-mini" and model.object == "model"
    with pytest.raises(openai.NotFoundError):
        client.models.retrieve("black-forest-labs/flux-schnell")
    with pytest.raises(openai.NotFoundError):
        client.models.retrieve("nope")


def test_the_sdk_lists_models(client, sim):
    assert "gpt-4o" in {m.id for m in client.models.list()}


def test_models_are_served_stale_when_upstream_fails_and_fetched_once(relay_factory, sim):
    relay = relay_factory(MODEL_CACHE_MEMORY_SECONDS="0", MODEL_CACHE_SHARED_SECONDS="1")
    assert httpx.get(f"{relay.url}/v1/models", headers=AUTH).status_code == 200
    sim.configure(models_fail=True)
    # Force the shared copy to expire by waiting on the simulator for a fresh fetch attempt.
    assert sim.wait_for(lambda: httpx.get(f"{relay.url}/v1/models", headers=AUTH).status_code == 200
                        and len(sim.requests_to("/models")) > 5, timeout=10)
    response = httpx.get(f"{relay.url}/v1/models", headers=AUTH)
    assert response.status_code == 200 and response.json()["data"]


def test_root_names_the_service_and_its_endpoints(relay):
    body = httpx.get(relay.url + "/").json()
    assert body["service"] == "1min-relay"
    assert "POST /v1/chat/completions" in body["endpoints"]
    assert body["version"]


@pytest.mark.parametrize(
    "method, path, kwargs, status, code",
    [
        ("POST", "/v1/chat/completions", {"content": b"{not json", "headers": {"Content-Type": "application/json"}}, 400, "invalid_json"),
        ("POST", "/v1/chat/completions", {"content": b"model=x", "headers": {"Content-Type": "application/x-www-form-urlencoded"}}, 415, "unsupported_media_type"),
        ("GET", "/v1/chat/completions", {}, 405, "method_not_allowed"),
        ("GET", "/v1/nothing/here", {}, 404, "unknown_url"),
        ("DELETE", "/v1/nothing", {}, 404, "unknown_url"),
        ("POST", "/v1/chat/completions", {"json": [1, 2]}, 400, "invalid_json"),
        ("POST", "/v1/chat/completions", {"json": {"model": 5, "messages": [{"role": "user", "content": "x"}]}}, 400, "invalid_type"),
        ("POST", "/v1/chat/completions", {"json": {"model": "gpt-4o", "messages": [{"role": "wizard", "content": "x"}]}}, 400, None),
        ("POST", "/v1/chat/completions", {"json": {"model": "gpt-4o", "messages": [{"role": "user", "content": [{"type": "input_audio"}]}]}}, 400, "unsupported_content_type"),
    ],
)
def test_every_v1_error_uses_the_openai_envelope(relay, sim, method, path, kwargs, status, code):
    headers = {**AUTH, **kwargs.pop("headers", {})}
    response = httpx.request(method, relay.url + path, headers=headers, **kwargs)
    assert response.status_code == status, response.text
    validate(response.json(), "ErrorResponse")
    if code:
        assert response.json()["error"]["code"] == code


def test_an_oversized_body_is_a_413_envelope(relay_factory, sim):
    small = relay_factory(MAX_JSON_BODY_BYTES="2048")
    response = httpx.post(f"{small.url}/v1/chat/completions", headers=AUTH,
                          json={"model": "gpt-4o", "messages": [{"role": "user", "content": "x" * 5000}]})
    assert response.status_code == 413
    validate(response.json(), "ErrorResponse")


def test_a_cold_relay_fetches_the_catalogue_once_for_many_concurrent_requests(relay_factory, sim):
    import asyncio

    cold = relay_factory()
    sim.configure(chunk_delay_ms=0)
    before = len(sim.requests_to("/models"))

    async def burst():
        async with httpx.AsyncClient(headers=AUTH, timeout=30) as http:
            return await asyncio.gather(*(http.get(f"{cold.url}/v1/models") for _ in range(20)))

    responses = asyncio.run(burst())
    assert all(r.status_code == 200 for r in responses)
    assert len(sim.requests_to("/models")) - before == 5  # one fetch per feature, once
