"""Audio type and duration are read from the bytes: every container the endpoints accept."""
import pytest

from api.media.audio_convert import NotConvertible, wav_to_pcm
from api.media.audio_probe import duration_seconds
from api.media.media_types import sniff_audio
from api.media.mpeg_audio import mpeg_frame
from tests import media_files as media


@pytest.mark.parametrize(
    "data, audio_format, codec, seconds",
    [
        (media.wav(1.5), "wav", None, 1.5),
        (media.wav(0.75, rate=44100, channels=2), "wav", None, 0.75),
        (media.float_wav(2.0), "wav", None, 2.0),  # `wave` refuses float WAVs; fmt's byte rate
        (media.mp3(20), "mp3", None, round(20 * 1152 / 44100, 3)),
        (media.mpeg2_mp3(100), "mp3", None, round(100 * 576 / 22050, 3)),
        (media.id3() + media.mp3(10), "mp3", None, round(10 * 1152 / 44100, 3)),
        (media.xing_mp3(declared_frames=1000), "mp3", None, round(1000 * 1152 / 44100, 3)),
        (media.mp3(5) + b"TAG" + b"\x00" * 125, "mp3", None, round(5 * 1152 / 44100, 3)),
        (media.flac(2.5), "flac", None, 2.5),
        (media.id3() + media.flac(1.0), "flac", None, 1.0),
        (media.ogg_opus(2.0), "ogg", "opus", 2.0),
        (media.ogg_vorbis(3.0), "ogg", "vorbis", 3.0),
        (media.m4a(2.5), "m4a", None, 2.5),
        (media.m4a(1.0, brand=b"isom", moov_last=False), "mp4", None, 1.0),
        (media.webm(1234.0), "webm", None, 1.234),
        (media.webm(None, blocks=((0, 20), (1000, 500))), "webm", None, 1.5),
    ],
)
def test_it_names_the_container_and_reads_the_real_duration(data, audio_format, codec, seconds):
    kind = sniff_audio(data)
    assert kind is not None and (kind.format, kind.codec) == (audio_format, codec)
    assert duration_seconds(data, kind.format) == pytest.approx(seconds, abs=0.001)


@pytest.mark.parametrize(
    "data, audio_format",
    [
        (media.flac(1.0, total=0), "flac"),  # STREAMINFO may leave the sample count unset
        (media.webm(None), "webm"),  # no Duration and no blocks
        (media.wav(1.0)[:30], "wav"),  # a header cut short
        (media.ogg_opus(1.0)[:40], "ogg"),
        (b"\xff\xfb\x90\xc0", "mp3"),
    ],
)
def test_an_unreadable_duration_is_unknown_not_invented(data, audio_format):
    assert duration_seconds(data, audio_format) is None


@pytest.mark.parametrize(
    "data",
    [media.png(), b"plain text, not audio at all", b"", b"RIFF\x00\x00\x00\x00AVI ",
     b"\x1a\x45\xdf\xa3" + b"\x00" * 20, b"\xff\xfb\x90\xc0" + b"\x00" * 413 + b"junk" * 10],
)
def test_what_is_not_supported_audio_is_not_taken_for_audio(data):
    assert sniff_audio(data) is None


def test_adts_aac_is_recognised_for_speech_output_but_not_mistaken_for_mp3():
    frame = b"\xff\xf1\x50\x80\x02\x1f\xfc" + b"\x00" * 10
    kind = sniff_audio(frame)
    assert kind is not None and kind.format == "aac"


@pytest.mark.parametrize(
    "header, expected",
    [
        (b"\xff\xfb\x90\xc0", (3, 3, 44100, 417, 1152)),  # MPEG-1 Layer III 128k
        (b"\xff\xfb\x92\xc0", (3, 3, 44100, 418, 1152)),  # with padding
        (b"\xff\xf3\x80\xc0", (2, 3, 22050, 208, 576)),  # MPEG-2 Layer III 64k
        (b"\xff\xfd\x80\xc0", (3, 2, 44100, 417, 1152)),  # MPEG-1 Layer II 128k
        (b"\xff\xff\x40\xc0", (3, 1, 44100, 136, 384)),  # MPEG-1 Layer I 128k
    ],
)
def test_mpeg_frame_headers_give_length_and_samples(header, expected):
    frame = mpeg_frame(header)
    assert (frame.version, frame.layer, frame.sample_rate, frame.length, frame.samples) == expected


@pytest.mark.parametrize("header", [b"\xff\xfb\xf0\xc0", b"\xff\xfb\x0c\xc0", b"\xff\xf9\x90\xc0", b"\xff\xeb\x90\xc0"])
def test_reserved_or_free_format_headers_are_refused(header):
    assert mpeg_frame(header) is None


@pytest.mark.parametrize("rate, channels", [(24000, 1), (16000, 1), (48000, 2), (22050, 2)])
def test_wav_becomes_24khz_mono_16bit_pcm(rate, channels):
    pcm = wav_to_pcm(media.wav(0.5, rate=rate, channels=channels, tone=True))
    assert len(pcm) == pytest.approx(0.5 * 24000 * 2, abs=4)
    assert pcm.count(b"\x00") < len(pcm)  # the tone survived


def test_pcm_from_8_bit_and_float_wavs():
    assert len(wav_to_pcm(media.wav(1.0, rate=8000, width=1, tone=True))) == 48000
    assert len(wav_to_pcm(media.float_wav(1.0, rate=8000))) == 48000


def test_what_is_not_a_wav_cannot_become_pcm():
    with pytest.raises(NotConvertible):
        wav_to_pcm(media.mp3())
