"""POST /v1/images/generations through the OpenAI SDK: URLs on the CDN, base64, family rules, errors."""
import base64
import json

import httpx
import openai
import pytest

from tests.conftest import TEST_KEY
from tests.onemin_simulator.media import solid_png
from tests.openai_schema import validate


def features_calls(sim) -> list[dict]:
    return [r["json"] for r in sim.requests_to("/api/features")]


def test_it_returns_absolute_cdn_urls_for_each_image(client, sim):
    raw = client.images.with_raw_response.generate(prompt="a red apple", n=2)
    body = json.loads(raw.text)
    validate(body, "ImagesResponse")
    urls = [image["url"] for image in body["data"]]
    assert len(urls) == 2 and all(u.startswith(f"{sim.cdn_url}/images/") for u in urls)
    for i, url in enumerate(urls):
        assert httpx.get(url).content == solid_png(f"a red apple#{i}")
    (call,) = features_calls(sim)
    # The default model is gpt-image-1-mini, which refuses calls without `quality`.
    assert call["model"] == "gpt-image-1-mini" and call["type"] == "IMAGE_GENERATOR"
    assert call["promptObject"] == {"prompt": "a red apple", "n": 2, "size": "1024x1024", "quality": "medium"}
    assert body["quality"] == "medium" and body["size"] == "1024x1024"


def test_b64_json_carries_the_image_bytes(client, sim):
    result = client.images.generate(prompt="a green pear", model="dall-e-2", size="256x256", n=2,
                                    response_format="b64_json")
    assert [base64.b64decode(d.b64_json) for d in result.data] == [
        solid_png("a green pear#0"), solid_png("a green pear#1")]
    assert all(d.url is None for d in result.data)


@pytest.mark.parametrize(
    "model, quality, sent",
    [("gpt-image-1", "standard", "medium"), ("gpt-image-1", "hd", "high"), ("gpt-image-1", "low", "low"),
     ("gpt-image-1-mini", "auto", "medium"), ("dall-e-3", "hd", "hd"), ("dall-e-3", "high", "hd"),
     ("dall-e-3", None, None)],
)
def test_quality_is_mapped_to_what_the_family_takes(client, sim, model, quality, sent):
    kwargs = {"quality": quality} if quality else {}
    client.images.generate(prompt="a cat", model=model, **kwargs)
    (call,) = features_calls(sim)
    assert call["promptObject"].get("quality") == sent


def test_style_goes_to_dall_e_3(client, sim):
    client.images.generate(prompt="a cat", model="dall-e-3", style="natural", size="1792x1024")
    (call,) = features_calls(sim)
    assert call["promptObject"] == {"prompt": "a cat", "n": 1, "size": "1792x1024", "style": "natural"}


@pytest.mark.parametrize(
    "kwargs, param",
    [({"model": "dall-e-3", "size": "512x512"}, "size"),
     ({"model": "stable-diffusion-xl-1024-v1-0", "size": "512x512"}, "size"),
     ({"model": "gpt-image-1-mini", "size": "1792x1024"}, "size"),
     ({"model": "dall-e-3", "n": 2}, "n"),
     ({"model": "gpt-image-1-mini", "style": "vivid"}, "style"),
     ({"model": "dall-e-2", "quality": "hd"}, "quality"),
     ({"response_format": "png"}, "response_format")],
)
def test_what_the_model_cannot_do_is_a_clear_400_before_any_credits_are_spent(client, sim, kwargs, param):
    with pytest.raises(openai.BadRequestError) as caught:
        client.images.generate(prompt="a cat", **kwargs)
    assert caught.value.body["param"] == param
    validate({"error": caught.value.body}, "ErrorResponse")
    assert features_calls(sim) == []


def test_a_missing_prompt_is_a_400(relay, sim):
    response = httpx.post(f"{relay.url}/v1/images/generations", headers={"Authorization": f"Bearer {TEST_KEY}"},
                          json={"model": "dall-e-3"})
    assert response.status_code == 400 and response.json()["error"]["param"] == "prompt"
    validate(response.json(), "ErrorResponse")


@pytest.mark.parametrize("model, error, code", [
    ("black-forest-labs/flux-schnell", openai.NotFoundError, "model_not_found"),
    ("no-such-model", openai.NotFoundError, "model_not_found"),
    ("gpt-4o", openai.BadRequestError, "model_not_supported"),  # a chat model: 400 naming its endpoint
])
def test_disabled_unknown_or_non_image_models_are_refused(client, sim, model, error, code):
    with pytest.raises(error) as caught:
        client.images.generate(prompt="a cat", model=model)
    assert caught.value.code == code
    assert features_calls(sim) == []


def test_upstream_missing_required_fields_becomes_a_400_naming_the_parameter(client, sim):
    sim.script({"status": 400, "error_code": "MISSING_REQUIRED_FIELDS",
                "message": "Missing required fields for gpt-image-1 model: quality. Please provide all required parameters.",
                "details": [{"field": "quality", "message": "Field 'quality' is required for gpt-image-1 model with type IMAGE_GENERATOR"}]},
               path="/api/features")
    with pytest.raises(openai.BadRequestError) as caught:
        client.images.generate(prompt="a cat", model="gpt-image-1")
    error = caught.value.body
    assert error["param"] == "quality" and error["code"] == "MISSING_REQUIRED_FIELDS"
    assert "Field 'quality' is required" in error["message"]


def test_a_provider_error_shows_the_real_cause_without_internal_urls_or_request_ids(client, sim):
    details = {"response": {"status": 400, "data": {"request_id": "0645484e", "code": "InvalidParameter",
                                                    "message": "The size does not match the allowed size 1664*928,1472*1104."}},
               "request": {"method": "post", "url": "/api/v1/services/aigc/multimodal-generation/generation"}}
    sim.script({"status": 400, "error_code": "EXTERNAL_API_RESPONSE_WITH_ERROR",
                "message": "The alibaba service is a bit busy right now or facing a temporary issue. Please try again shortly.",
                "context": {"service": "alibaba"}, "details": details}, path="/api/features")
    with pytest.raises(openai.BadRequestError) as caught:
        client.images.generate(prompt="a cat", model="gpt-image-1")
    error = caught.value.body
    validate({"error": error}, "ErrorResponse")
    assert "The size does not match the allowed size 1664*928,1472*1104." in error["message"]
    assert "busy" not in error["message"] and "0645484e" not in error["message"] and "/api/v1" not in error["message"]
    assert error["param"] == "size" and error["code"] == "EXTERNAL_API_RESPONSE_WITH_ERROR"


def test_a_failed_record_at_http_200_is_a_502(client, sim):
    sim.script({"record_status": "FAILED"}, path="/api/features")
    with pytest.raises(openai.APIStatusError) as caught:
        client.images.generate(prompt="a cat")
    assert caught.value.status_code == 502


def test_user_is_accepted(client, sim):
    assert len(client.images.generate(prompt="a cat", user="user-1234").data) == 1


@pytest.fixture(scope="module")
def configured_relay(relay_factory):
    # No model cache, so the catalogue the simulator shows is the one the relay uses.
    return relay_factory(DEFAULT_IMAGE_MODEL="dall-e-2", MODEL_CACHE_MEMORY_SECONDS="0",
                         MODEL_CACHE_SHARED_SECONDS="0")


def test_the_default_model_is_configurable_and_falls_back_to_an_active_one(configured_relay, sim):
    with openai.OpenAI(base_url=f"{configured_relay.url}/v1", api_key=TEST_KEY, max_retries=0) as client:
        client.images.generate(prompt="a cat")
        sim.set_model_status("dall-e-2", "DISABLED")
        client.images.generate(prompt="a dog")
    assert [c["model"] for c in features_calls(sim)] == ["dall-e-2", "gpt-image-1-mini"]
