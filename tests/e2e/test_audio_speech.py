"""POST /v1/audio/speech through the OpenAI SDK: the generated audio's bytes, labelled with what they are."""
import httpx
import openai
import pytest

from tests.conftest import TEST_KEY
from tests.onemin_simulator.media import silent_mp3, silent_wav
from tests.openai_schema import validate


def features_call(sim) -> dict:
    (call,) = sim.requests_to("/api/features")
    return call["json"]


def test_it_returns_the_generated_mp3(client, sim):
    raw = client.audio.speech.with_raw_response.create(model="tts-1", voice="alloy", input="Hello there.")
    assert raw.content == silent_mp3() and raw.headers["content-type"] == "audio/mpeg"
    call = features_call(sim)
    assert call["type"] == "TEXT_TO_SPEECH" and call["conversationId"] == "TEXT_TO_SPEECH"
    assert call["promptObject"] == {"text": "Hello there.", "voice": "alloy", "response_format": "mp3", "speed": 1.0}


def test_the_audio_streams_to_the_client(client, sim):
    with client.audio.speech.with_streaming_response.create(
            model="tts-1-hd", voice="nova", input="Streaming.", speed=1.25) as response:
        assert response.headers["content-type"] == "audio/mpeg"
        data = b"".join(response.iter_bytes(chunk_size=1000))
    assert data == silent_mp3()
    assert features_call(sim)["promptObject"]["speed"] == 1.25


def downloads(sim) -> list[str]:
    return [r["path"].split("/")[1] for r in sim.requests if r["method"] == "GET" and r["path"].startswith(("/tmp/", "/cdn/"))]


def test_the_audio_comes_from_the_temporary_url_or_else_the_cdn(client, sim):
    client.audio.speech.create(model="tts-1", voice="alloy", input="One")
    sim.script({"omit_temporary_url": True}, path="/api/features")
    assert client.audio.speech.create(model="tts-1", voice="alloy", input="Two").content == silent_mp3()
    assert downloads(sim) == ["tmp", "cdn"]


def test_wav_is_wav(client, sim):
    raw = client.audio.speech.with_raw_response.create(model="tts-1", voice="echo", input="Hi", response_format="wav")
    assert raw.content == silent_wav() and raw.headers["content-type"] == "audio/wav"


def test_pcm_is_headerless_24khz_mono_16_bit(client, sim):
    raw = client.audio.speech.with_raw_response.create(model="tts-1", voice="echo", input="Hi", response_format="pcm")
    # The simulator's WAV is 0.25 s at 16 kHz; OpenAI's pcm is 24 kHz, 2 bytes per sample.
    assert raw.headers["content-type"] == "audio/pcm" and len(raw.content) == 12000
    assert not raw.content.startswith(b"RIFF")
    assert features_call(sim)["promptObject"]["response_format"] == "wav"


def test_a_different_format_than_asked_is_labelled_as_what_it_is(client, sim):
    # The simulator answers MP3 bytes for opus (what 1min.ai does here is unverified).
    raw = client.audio.speech.with_raw_response.create(model="tts-1", voice="fable", input="Hi", response_format="opus")
    assert raw.content == silent_mp3()
    assert raw.headers["content-type"] == "audio/mpeg" and raw.headers["x-audio-format"] == "mp3"


def test_elevenlabs_gets_its_own_fields(client, sim):
    client.audio.speech.create(model="elevenlabs-tts", voice="21m00Tcm4TlvDq8ikWAM", input="Hi")
    assert features_call(sim)["promptObject"] == {
        "text": "Hi", "voice_id": "21m00Tcm4TlvDq8ikWAM", "output_format": "mp3_44100_128"}


@pytest.mark.parametrize(
    "kwargs, param",
    [({"input": "x" * 4097}, "input"), ({"speed": 4.5}, "speed"), ({"speed": 0.1}, "speed"),
     ({"voice": "ballad"}, "voice"), ({"response_format": "ogg"}, "response_format"),
     ({"model": "elevenlabs-tts", "speed": 2.0}, "speed"), ({"instructions": "Speak softly"}, "instructions")],
)
def test_invalid_requests_are_400s_naming_the_parameter(client, sim, kwargs, param):
    arguments = {"model": "tts-1", "voice": "alloy", "input": "Hi", **kwargs}
    with pytest.raises(openai.BadRequestError) as caught:
        client.audio.speech.create(**arguments)
    assert caught.value.body["param"] == param
    validate({"error": caught.value.body}, "ErrorResponse")
    assert sim.requests_to("/api/features") == []


def test_input_of_exactly_4096_characters_is_accepted(client, sim):
    client.audio.speech.create(model="tts-1", voice="alloy", input="x" * 4096)
    assert len(features_call(sim)["promptObject"]["text"]) == 4096


@pytest.mark.parametrize("model, error", [
    ("whisper-1", openai.BadRequestError),  # a transcription model: 400 naming its endpoints
    ("gpt-4o-mini-tts", openai.NotFoundError),
    ("nope", openai.NotFoundError),
])
def test_models_that_do_not_speak_are_refused(client, sim, model, error):
    with pytest.raises(error):
        client.audio.speech.create(model=model, voice="alloy", input="Hi")


def test_upstream_errors_name_the_openai_parameter(client, sim):
    sim.script({"status": 400, "error_code": "MISSING_REQUIRED_FIELDS", "message": "Missing required fields: text.",
                "details": [{"field": "text", "message": "Field 'text' is required"}]}, path="/api/features")
    with pytest.raises(openai.BadRequestError) as caught:
        client.audio.speech.create(model="tts-1", voice="alloy", input="Hi")
    assert caught.value.body["param"] == "input"


def test_errors_are_json_envelopes_even_when_audio_was_accepted(relay, sim):
    response = httpx.post(f"{relay.url}/v1/audio/speech", json={"model": "tts-1", "input": "Hi"},
                          headers={"Authorization": f"Bearer {TEST_KEY}", "Accept": "audio/mpeg"})
    assert response.status_code == 400 and response.headers["content-type"] == "application/json"
    validate(response.json(), "ErrorResponse")
