"""/api/features: images, speech to text, translation, text to speech, legacy chat, scripts."""
from __future__ import annotations

import json
import re

import httpx
import pytest

from tests.onemin_simulator import Simulator
from tests.simulator_tests.sse_helpers import KEY, upload

FEATURES = "/api/features"
PATH = re.compile(r"images/\d{4}_\d{2}_\d{2}_\d{2}_\d{2}_\d{2}_\d{3}_\d{6}\.png")


def feature(client: httpx.Client, feature_type: str, model: str, **prompt) -> httpx.Response:
    return client.post(FEATURES, params={"isStreaming": "false"}, headers=KEY,
                       json={"type": feature_type, "model": model, "promptObject": prompt})


def test_gpt_image_models_require_quality(client: httpx.Client) -> None:
    response = feature(client, "IMAGE_GENERATOR", "gpt-image-1-mini", prompt="cat", n=1,
                       size="1024x1024")
    assert response.status_code == 400
    assert response.json() == {
        "errorCode": "MISSING_REQUIRED_FIELDS",
        "message": "Missing required fields for gpt-image-1-mini model: quality. "
                   "Please provide all required parameters.",
        "details": "[{\"field\":\"quality\",\"message\":\"Field 'quality' is required for "
                   "gpt-image-1-mini model with type IMAGE_GENERATOR\"}]"}


def test_it_generates_fetchable_png_images(sim: Simulator, client: httpx.Client) -> None:
    record = feature(client, "IMAGE_GENERATOR", "gpt-image-1", prompt="cat", n=2,
                     quality="low").json()["aiRecord"]
    paths = record["aiRecordDetail"]["resultObject"]
    assert len(paths) == 2 and all(PATH.fullmatch(p) for p in paths)
    assert record["metadata"] == {} and record["type"] == "IMAGE_GENERATOR"
    assert record["temporaryUrl"] == f"{sim.url}/tmp/{paths[0]}?X-Amz-Signature=fake"
    signed = httpx.get(record["temporaryUrl"])
    assert signed.content.startswith(b"\x89PNG\r\n\x1a\n")
    assert signed.headers["content-type"] == "image/png"
    for path in paths:
        assert httpx.get(f"{sim.cdn_url}/{path}").content.startswith(b"\x89PNG")


def test_a_disabled_image_model_is_refused(client: httpx.Client) -> None:
    response = feature(client, "IMAGE_GENERATOR", "black-forest-labs/flux-schnell", prompt="x")
    assert response.status_code == 400
    assert response.json() == {
        "errorCode": "UNSUPPORTED_MODEL",
        "message": "Model black-forest-labs/flux-schnell is not supported for feature "
                   "IMAGE_GENERATOR"}


@pytest.mark.parametrize("prompt", [{"n": 2}, {"size": "512x512"}])
def test_dall_e_3_allows_one_image_and_three_sizes(client: httpx.Client, prompt: dict) -> None:
    response = feature(client, "IMAGE_GENERATOR", "dall-e-3", prompt="x", **prompt)
    assert response.status_code == 400
    assert response.json()["errorCode"] == "EXTERNAL_API_RESPONSE_WITH_ERROR"


def test_sdxl_hides_the_real_cause_in_details(client: httpx.Client) -> None:
    response = feature(client, "IMAGE_GENERATOR", "stable-diffusion-xl-1024-v1-0", prompt="x",
                       size="512x512")
    body = response.json()
    assert response.status_code == 400
    assert body["errorCode"] == "EXTERNAL_API_RESPONSE_WITH_ERROR"
    assert body["message"].startswith("The stability service is a bit busy")
    assert body["context"] == {"service": "stability"}
    details = json.loads(body["details"])
    assert details["response"]["data"]["request_id"]
    assert "512" in details["response"]["data"]["message"]
    assert details["request"]["url"].startswith("/v1/generation/")
    ok = feature(client, "IMAGE_GENERATOR", "stable-diffusion-xl-1024-v1-0", prompt="x",
                 size="1152x896", samples=1)
    assert ok.status_code == 200


def test_speech_to_text_transcribes_an_uploaded_file(sim: Simulator,
                                                     client: httpx.Client) -> None:
    path = upload(client, "voice.mp3", b"ID3 fake", "audio/mpeg")["fileContent"]["path"]
    record = feature(client, "SPEECH_TO_TEXT", "whisper-1", audioUrl=path,
                     response_format="text").json()["aiRecord"]
    assert record["aiRecordDetail"]["resultObject"] == ["Simulated transcript of voice.mp3"]
    sim.script({"text": "scripted words"}, path=FEATURES, prompt_contains="SPEECH_TO_TEXT")
    again = feature(client, "SPEECH_TO_TEXT", "whisper-1", audioUrl=path).json()["aiRecord"]
    assert again["aiRecordDetail"]["resultObject"] == ["scripted words"]


def test_speech_to_text_rules(client: httpx.Client) -> None:
    path = upload(client, "voice.wav", b"RIFF", "audio/wav")["fileContent"]["path"]
    google = feature(client, "SPEECH_TO_TEXT", "latest_long", audioUrl=path)
    assert google.status_code == 400 and google.json()["errorCode"] == "MISSING_REQUIRED_FIELDS"
    assert feature(client, "SPEECH_TO_TEXT", "latest_long", audioUrl=path,
                   language="en-US").status_code == 200
    unknown = feature(client, "SPEECH_TO_TEXT", "whisper-1", audioUrl="audios/nope.mp3")
    assert unknown.status_code == 400
    wrong_model = feature(client, "SPEECH_TO_TEXT", "tts-1", audioUrl=path)
    assert wrong_model.json()["errorCode"] == "UNSUPPORTED_MODEL"


def test_audio_translator(client: httpx.Client) -> None:
    path = upload(client, "fr.mp3", b"ID3", "audio/mpeg")["fileContent"]["path"]
    record = feature(client, "AUDIO_TRANSLATOR", "whisper-1", audioUrl=path).json()["aiRecord"]
    assert record["aiRecordDetail"]["resultObject"] == ["Simulated English translation of fr.mp3"]
    refused = feature(client, "AUDIO_TRANSLATOR", "latest_long", audioUrl=path)
    assert refused.json()["message"] == ("Model latest_long is not supported for feature "
                                         "AUDIO_TRANSLATOR")


def test_text_to_speech_returns_fetchable_audio(sim: Simulator, client: httpx.Client) -> None:
    assert feature(client, "TEXT_TO_SPEECH", "tts-1", text="hi").status_code == 400  # no voice
    assert feature(client, "TEXT_TO_SPEECH", "tts-1", text="x" * 4097,
                   voice="alloy").status_code == 400
    record = feature(client, "TEXT_TO_SPEECH", "tts-1", text="hi", voice="alloy").json()["aiRecord"]
    [path] = record["aiRecordDetail"]["resultObject"]
    assert path.startswith("audios/") and path.endswith(".mp3")
    audio = httpx.get(record["temporaryUrl"])
    assert audio.content[:2] == b"\xff\xfb" and audio.headers["content-type"] == "audio/mpeg"
    assert httpx.get(f"{sim.cdn_url}/{path}").content == audio.content
    wav = feature(client, "TEXT_TO_SPEECH", "tts-1-hd", text="hi", voice="nova",
                  response_format="wav").json()["aiRecord"]
    assert httpx.get(wav["temporaryUrl"]).content[:4] == b"RIFF"


@pytest.mark.parametrize("feature_type, model, prompt", [
    ("TEXT_TO_SPEECH", "tts-1", {"text": "hi", "voice": "alloy"}),
    ("IMAGE_GENERATOR", "dall-e-2", {"prompt": "cat"}),
])
def test_a_script_can_leave_out_the_temporary_url(sim: Simulator, client: httpx.Client,
                                                  feature_type: str, model: str, prompt: dict) -> None:
    sim.script({"omit_temporary_url": True}, path=FEATURES)
    record = feature(client, feature_type, model, **prompt).json()["aiRecord"]
    assert "temporaryUrl" not in record
    [path] = record["aiRecordDetail"]["resultObject"]
    assert httpx.get(f"{sim.cdn_url}/{path}").status_code == 200
    assert "temporaryUrl" in feature(client, feature_type, model, **prompt).json()["aiRecord"]


def test_legacy_chat_is_rejected_by_default_and_can_work(sim: Simulator,
                                                         client: httpx.Client) -> None:
    refused = feature(client, "CHAT_WITH_IMAGE", "gpt-4o", prompt="hi")
    assert refused.status_code == 400
    assert refused.json() == {"errorCode": "UNKNOWN_ERROR",
                              "message": "Unsupported feature type: CHAT_WITH_IMAGE"}
    sim.configure(legacy_chat="works")
    record = feature(client, "CHAT_WITH_AI", "gpt-4o", prompt="hi").json()["aiRecord"]
    assert record["type"] == "CHAT_WITH_AI"
    assert record["aiRecordDetail"]["resultObject"][0].startswith("Simulated reply (gpt-4o)")


def test_unknown_feature_type(client: httpx.Client) -> None:
    response = feature(client, "TIME_TRAVEL", "gpt-4o", prompt="x")
    assert response.status_code == 400 and response.json()["errorCode"] == "UNKNOWN_ERROR"


def test_features_honour_failure_scripts(sim: Simulator, client: httpx.Client) -> None:
    sim.script({"status": 503, "envelope": "text", "message": "upstream overloaded"},
               path=FEATURES)
    response = feature(client, "IMAGE_GENERATOR", "dall-e-2", prompt="x")
    assert response.status_code == 503 and response.text == "upstream overloaded"
    sim.script({"delay_body_ms": 3000}, path=FEATURES)
    with pytest.raises(httpx.ReadTimeout):
        client.post(FEATURES, headers=KEY, timeout=0.3, json={
            "type": "IMAGE_GENERATOR", "model": "dall-e-2", "promptObject": {"prompt": "x"}})
    assert sim.wait_for(lambda: sim.requests_to(FEATURES)[-1]["client_disconnected"])
