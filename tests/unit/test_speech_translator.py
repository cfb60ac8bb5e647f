"""Speech: each TTS backend's fields, and honest labels for the audio that comes back."""
import pytest

from core.errors import InvalidRequest
from api.media.media_types import AudioType
from api.request_schemas.media import SpeechRequest
from api.translators.speech import build_body, delivery


@pytest.mark.parametrize(
    "fields, prompt_object",
    [
        ({"model": "tts-1"}, {"voice": "alloy", "response_format": "mp3", "speed": 1.0}),
        ({"model": "tts-1-hd", "response_format": "flac", "speed": 0.5, "voice": "coral"},
         {"voice": "coral", "response_format": "flac", "speed": 0.5}),
        ({"model": "tts-1", "response_format": "pcm"}, {"voice": "alloy", "response_format": "wav", "speed": 1.0}),
        ({"model": "elevenlabs-tts", "voice": "21m00Tcm4TlvDq8ikWAM"},
         {"voice_id": "21m00Tcm4TlvDq8ikWAM", "output_format": "mp3_44100_128"}),
        ({"model": "elevenlabs-tts", "response_format": "pcm"}, {"voice_id": "alloy", "output_format": "pcm_24000"}),
        ({"model": "qwen3-tts-flash", "voice": "Dylan", "response_format": "wav"}, {"voice": "Dylan"}),
    ],
)
def test_each_backend_gets_its_own_fields(fields, prompt_object):
    request = SpeechRequest(**{"input": "Hello", "voice": "alloy", **fields})
    assert build_body(request) == {"type": "TEXT_TO_SPEECH", "model": request.model,
                                   "conversationId": "TEXT_TO_SPEECH",
                                   "promptObject": {"text": "Hello", **prompt_object}}


@pytest.mark.parametrize(
    "fields, param",
    [({"model": "tts-1", "voice": "ballad"}, "voice"),
     ({"model": "elevenlabs-tts", "speed": 1.5}, "speed"),
     ({"model": "elevenlabs-tts", "response_format": "flac"}, "response_format"),
     ({"model": "qwen3-tts-flash", "response_format": "mp3"}, "response_format")],
)
def test_what_a_backend_cannot_do_is_a_400(fields, param):
    with pytest.raises(InvalidRequest) as caught:
        build_body(SpeechRequest(**{"input": "Hello", "voice": "alloy", **fields}))
    assert caught.value.param == param


MP3 = AudioType("mp3", "audio/mpeg")
WAV = AudioType("wav", "audio/wav")
OPUS = AudioType("ogg", "audio/ogg", "opus")
VORBIS = AudioType("ogg", "audio/ogg", "vorbis")


@pytest.mark.parametrize(
    "requested, sniffed, content_type, convert, actual",
    [
        ("mp3", MP3, "audio/mpeg", False, None),
        ("wav", WAV, "audio/wav", False, None),
        ("opus", OPUS, "audio/opus", False, None),
        ("aac", AudioType("aac", "audio/aac"), "audio/aac", False, None),
        ("flac", AudioType("flac", "audio/flac"), "audio/flac", False, None),
        ("pcm", WAV, "audio/pcm", True, None),
        ("pcm", None, "audio/pcm", False, None),
        ("flac", MP3, "audio/mpeg", False, "mp3"),
        ("opus", VORBIS, "audio/ogg", False, "ogg"),
        ("pcm", MP3, "audio/mpeg", False, "mp3"),
        ("mp3", None, "application/octet-stream", False, "unknown"),
    ],
)
def test_audio_is_labelled_with_what_it_is(requested, sniffed, content_type, convert, actual):
    result = delivery(requested, sniffed)
    assert (result.content_type, result.wav_to_pcm, result.actual_format) == (content_type, convert, actual)
