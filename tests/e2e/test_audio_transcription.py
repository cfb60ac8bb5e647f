"""POST /v1/audio/transcriptions and /v1/audio/translations through the OpenAI SDK, every format."""
import json

import httpx
import openai
import pytest

from tests import media_files as media
from tests.conftest import TEST_KEY
from tests.openai_schema import validate

# The SDK marks audio.translations as deprecated; the endpoint is still OpenAI's and ours.
pytestmark = pytest.mark.filterwarnings("ignore:deprecated:DeprecationWarning")
AUTH = {"Authorization": f"Bearer {TEST_KEY}"}
LIMIT = 25 * 1024 * 1024
WAV = media.wav(1.5)
JSON_SCHEMAS = {
    ("transcriptions", "json"): "CreateTranscriptionResponseJson",
    ("transcriptions", "verbose_json"): "CreateTranscriptionResponseVerboseJson",
    ("translations", "json"): "CreateTranslationResponseJson",
    ("translations", "verbose_json"): "CreateTranslationResponseVerboseJson",
}
DEFAULT_TEXT = {"transcriptions": "Simulated transcript of ", "translations": "Simulated English translation of "}


def endpoint(client, kind):
    return client.audio.transcriptions if kind == "transcriptions" else client.audio.translations


def only_upload(sim) -> dict:
    (upload,) = sim.requests_to("/api/assets")
    (part,) = upload["form"]["files"]
    return part


def features_call(sim) -> dict:
    (call,) = sim.requests_to("/api/features")
    return call["json"]


@pytest.mark.parametrize("kind", ["transcriptions", "translations"])
@pytest.mark.parametrize("response_format", ["json", "text", "srt", "vtt", "verbose_json"])
def test_every_format_works_through_the_sdk(client, sim, kind, response_format):
    raw = endpoint(client, kind).with_raw_response.create(
        model="whisper-1", file=("speech.wav", WAV), response_format=response_format)
    result = raw.parse()
    text = DEFAULT_TEXT[kind] + only_upload(sim)["filename"]
    if response_format in ("json", "verbose_json"):
        body = json.loads(raw.text)
        validate(body, JSON_SCHEMAS[(kind, response_format)])
        assert result.text == text
    if response_format == "verbose_json":
        assert result.duration == 1.5
        assert [(s.start, s.end, s.text) for s in result.segments] == [(0.0, 1.5, text)]
        assert result.language == ("english" if kind == "translations" else "unknown")
    if response_format == "text":
        assert result == text + "\n"
    if response_format == "srt":
        assert result == f"1\n00:00:00,000 --> 00:00:01,500\n{text}\n\n"
    if response_format == "vtt":
        assert result == f"WEBVTT\n\n00:00:00.000 --> 00:00:01.500\n{text}\n\n"
        assert raw.headers["content-type"].startswith("text/vtt")
    assert features_call(sim)["promptObject"]["response_format"] == response_format


def test_the_file_is_uploaded_as_an_asset_with_the_extension_of_its_bytes(client, sim):
    client.audio.transcriptions.create(model="whisper-1", file=("speech.wav", WAV), language="en",
                                       prompt="Names: Zoë", temperature=0.2)
    part = only_upload(sim)
    assert part["name"] == "asset" and part["filename"].endswith(".wav")
    assert part["content_type"] == "audio/wav" and part["data"] == WAV
    call = features_call(sim)
    (path,) = sim.assets
    assert call["type"] == "SPEECH_TO_TEXT" and call["model"] == "whisper-1"
    assert call["promptObject"] == {"audioUrl": path, "response_format": "json", "language": "en",
                                    "prompt": "Names: Zoë", "temperature": 0.2}


def test_an_mp3_named_wav_is_sent_as_mp3_and_timed_from_its_frames(client, sim):
    result = client.audio.transcriptions.create(model="whisper-1", file=("clip.wav", media.mp3(20)),
                                                response_format="verbose_json")
    part = only_upload(sim)
    assert part["filename"].endswith(".mp3") and part["content_type"] == "audio/mpeg"
    assert result.duration == round(20 * 1152 / 44100, 3)


@pytest.mark.parametrize(
    "data, extension, seconds",
    [(media.flac(2.5), ".flac", 2.5), (media.ogg_opus(2.0), ".ogg", 2.0), (media.m4a(3.25), ".m4a", 3.25),
     (media.webm(1234.0), ".webm", 1.234), (media.id3() + media.mp3(10), ".mp3", 0.261)],
)
def test_each_container_is_uploaded_with_its_extension_and_real_duration(client, sim, data, extension, seconds):
    result = client.audio.transcriptions.create(model="whisper-1", file=("upload.bin", data),
                                                response_format="verbose_json")
    assert only_upload(sim)["filename"].endswith(extension)
    assert result.duration == pytest.approx(seconds, abs=0.001)


def test_upstream_subtitles_keep_their_timings_within_the_real_audio(client, sim):
    sim.script({"text": "1\n00:00:00,000 --> 00:00:00,800\nHello\n\n2\n00:00:00,800 --> 00:00:09,000\nworld.\n"},
               path="/api/features")
    raw = client.audio.transcriptions.with_raw_response.create(model="whisper-1", file=("a.wav", WAV),
                                                               response_format="verbose_json")
    body = json.loads(raw.text)
    validate(body, "CreateTranscriptionResponseVerboseJson")
    assert body["text"] == "Hello world."
    assert [(s["start"], s["end"], s["text"]) for s in body["segments"]] == [(0.0, 0.8, "Hello"), (0.8, 1.5, "world.")]


@pytest.mark.parametrize("data", [b"just some text, clearly not audio", media.png()])
def test_a_file_that_is_not_audio_is_refused_whatever_its_name(client, sim, data):
    with pytest.raises(openai.BadRequestError) as caught:
        client.audio.transcriptions.create(model="whisper-1", file=("song.mp3", data))
    assert caught.value.body["param"] == "file" and caught.value.code == "invalid_file_format"
    assert sim.requests_to("/api/assets") == []


def test_google_models_need_a_language(client, sim):
    with pytest.raises(openai.BadRequestError) as caught:
        client.audio.transcriptions.create(model="latest_long", file=("a.wav", WAV))
    assert caught.value.body["param"] == "language"
    assert sim.requests_to("/api/assets") == []
    client.audio.transcriptions.create(model="latest_long", file=("a.wav", WAV), language="en-US")
    prompt_object = features_call(sim)["promptObject"]
    assert prompt_object == {"audioUrl": prompt_object["audioUrl"], "language": "en-US"}


def test_translator_models_come_from_the_registry(client, sim):
    client.audio.translations.create(model="gemini-2.5-flash", file=("a.wav", WAV))
    call = features_call(sim)
    assert call["type"] == "AUDIO_TRANSLATOR" and call["conversationId"] == "AUDIO_TRANSLATOR"
    assert call["promptObject"]["targetLanguage"] == "English"
    with pytest.raises(openai.BadRequestError) as caught:  # a transcription-only model
        client.audio.translations.create(model="latest_long", file=("a.wav", WAV))
    assert caught.value.code == "model_not_supported" and "/v1/audio/transcriptions" in caught.value.message


def test_temperature_must_be_between_0_and_1(client, sim):
    with pytest.raises(openai.BadRequestError) as caught:
        client.audio.transcriptions.create(model="whisper-1", file=("a.wav", WAV), temperature=1.5)
    assert caught.value.body["param"] == "temperature"


def test_a_file_over_25_mb_is_a_413_and_never_reaches_1min_ai(client, sim):
    with pytest.raises(openai.APIStatusError) as caught:
        client.audio.transcriptions.create(model="whisper-1", file=("big.wav", b"\x00" * (LIMIT + 1)))
    assert caught.value.status_code == 413 and caught.value.body["param"] == "file"
    validate({"error": caught.value.body}, "ErrorResponse")
    assert sim.requests_to("/api/assets") == []


@pytest.mark.parametrize("chunked", [False, True])
def test_an_oversized_body_is_refused_before_it_is_parsed(relay, sim, chunked):
    boundary = "relay-test-boundary"
    head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"model\"\r\n\r\nwhisper-1\r\n"
            f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.wav\"\r\n"
            "Content-Type: audio/wav\r\n\r\n").encode()
    size = LIMIT + 2 * 1024 * 1024
    if chunked:
        content = (piece for piece in [head] + [b"\x00" * (1024 * 1024)] * (size // (1024 * 1024)))
    else:
        content = head + b"\x00" * size
    response = httpx.post(f"{relay.url}/v1/audio/transcriptions", content=content, timeout=60,
                          headers={**AUTH, "Content-Type": f"multipart/form-data; boundary={boundary}"})
    assert response.status_code == 413
    validate(response.json(), "ErrorResponse")
    assert sim.requests_to("/api/assets") == []


def test_a_chunked_upload_within_the_limit_is_passed_on_whole(relay, sim):
    files = {"file": ("a.wav", WAV)}
    request = httpx.Request("POST", f"{relay.url}/v1/audio/transcriptions", headers=AUTH,
                            data={"model": "whisper-1"}, files=files)
    body = request.read()
    chunks = (body[i:i + 1000] for i in range(0, len(body), 1000))  # no Content-Length: chunked
    response = httpx.post(request.url, headers={**AUTH, "Content-Type": request.headers["Content-Type"]},
                          content=chunks)
    assert response.status_code == 200, response.text
    assert only_upload(sim)["data"] == WAV


def test_a_json_body_or_a_missing_file_is_an_enveloped_error(relay, sim):
    url = f"{relay.url}/v1/audio/transcriptions"
    response = httpx.post(url, headers=AUTH, json={"model": "whisper-1"})
    assert response.status_code == 415 and "multipart/form-data" in response.json()["error"]["message"]
    response = httpx.post(url, headers=AUTH, data={"model": "whisper-1", "file": "not a file"},
                          files={"other": ("a.wav", WAV)})
    assert response.status_code == 400 and response.json()["error"]["param"] == "file"
    response = httpx.post(url, headers=AUTH, files={"file": ("a.wav", WAV)})
    assert response.status_code == 400 and response.json()["error"]["param"] == "model"
    validate(response.json(), "ErrorResponse")
    response = httpx.post(url, content=b"--x\r\nnot a form", headers={**AUTH, "Content-Type": "multipart/form-data"})
    assert response.status_code == 400 and response.json()["error"]["code"] == "invalid_body"
    validate(response.json(), "ErrorResponse")
    fields = {f"f{i}": "x" for i in range(1100)}  # more than Django's DATA_UPLOAD_MAX_NUMBER_FIELDS
    response = httpx.post(url, headers=AUTH, data={"model": "whisper-1", **fields}, files={"file": ("a.wav", WAV)})
    assert response.status_code == 400
    validate(response.json(), "ErrorResponse")


def test_timed_formats_are_refused_when_the_length_cannot_be_read(client, sim):
    silent_webm = media.webm(duration_ms=None)  # no Duration element and no blocks to time
    with pytest.raises(openai.BadRequestError) as caught:
        client.audio.transcriptions.create(model="whisper-1", file=("a.webm", silent_webm), response_format="srt")
    assert caught.value.code == "audio_duration_unknown" and caught.value.body["param"] == "response_format"
    assert sim.requests_to("/api/assets") == []
    assert client.audio.transcriptions.create(model="whisper-1", file=("a.webm", silent_webm)).text


def test_upstream_errors_name_the_openai_parameter(client, sim):
    sim.script({"status": 400, "error_code": "MISSING_REQUIRED_FIELDS",
                "message": "Missing required fields for whisper-1 model: audioUrl.",
                "details": [{"field": "audioUrl", "message": "Field 'audioUrl' is required"}]}, path="/api/features")
    with pytest.raises(openai.BadRequestError) as caught:
        client.audio.transcriptions.create(model="whisper-1", file=("a.wav", WAV))
    assert caught.value.body["param"] == "file" and "audioUrl" in caught.value.message


def test_a_failed_upload_is_a_502(client, sim):
    sim.script({"status": 500, "envelope": "text", "message": "disk full"}, path="/api/assets")
    with pytest.raises(openai.APIStatusError) as caught:
        client.audio.transcriptions.create(model="whisper-1", file=("a.wav", WAV))
    assert caught.value.status_code == 502
    assert sim.requests_to("/api/features") == []
