"""SRT and WebVTT: parsed from any upstream variant, fitted to the audio, rendered exactly."""
import pytest

from api.media.subtitles import Cue, fit, parse_cues, parse_timestamp, render_srt, render_vtt, text_of, whole


@pytest.mark.parametrize(
    "stamp, seconds",
    [("00:00:01,500", 1.5), ("01:02:03.004", 3723.004), ("02:03.4", 123.4), ("00:00:00,05", 0.05)],
)
def test_timestamps_parse_in_both_notations(stamp, seconds):
    assert parse_timestamp(stamp) == pytest.approx(seconds)


SRT = "1\r\n00:00:00,000 --> 00:00:01,200\r\nHello there.\r\n\r\n2\r\n00:00:01,200 --> 00:00:03,000\r\nGeneral\r\nKenobi.\r\n"
VTT = "WEBVTT\n\nNOTE made by a test\n\nintro\n00:00.000 --> 00:01.200 align:start\nHello there.\n\n00:01.200 --> 00:03.000\nGeneral\nKenobi.\n"


@pytest.mark.parametrize("document", [SRT, VTT])
def test_srt_and_vtt_parse_to_the_same_cues(document):
    assert parse_cues(document) == [Cue(0.0, 1.2, "Hello there."), Cue(1.2, 3.0, "General\nKenobi.")]


@pytest.mark.parametrize("text", ["Just words.", "", "1\nnot a timing\n", "see --> there"])
def test_plain_text_is_not_mistaken_for_subtitles(text):
    assert parse_cues(text) is None


def test_cues_are_clamped_to_the_audio():
    cues = [Cue(0.0, 1.0, "a"), Cue(1.0, 9.0, "b"), Cue(12.0, 14.0, "c")]
    assert fit(cues, 2.5) == [Cue(0.0, 1.0, "a"), Cue(1.0, 2.5, "b"), Cue(2.5, 2.5, "c")]


def test_untimed_text_is_one_cue_over_the_whole_audio():
    assert whole("  Hi.  ", 4.25) == [Cue(0.0, 4.25, "Hi.")]


def test_srt_renders_numbered_blocks_with_commas():
    cues = [Cue(0.0, 1.5, "One."), Cue(1.5, 3661.25, "Two\n\n\nlines -->")]
    assert render_srt(cues) == (
        "1\n00:00:00,000 --> 00:00:01,500\nOne.\n\n"
        "2\n00:00:01,500 --> 01:01:01,250\nTwo\nlines ->\n\n"
    )


def test_vtt_renders_a_header_and_dotted_times():
    assert render_vtt([Cue(0.0, 0.5, "Hi.")]) == "WEBVTT\n\n00:00:00.000 --> 00:00:00.500\nHi.\n\n"


def test_rendered_subtitles_parse_back_to_the_same_cues():
    cues = [Cue(0.0, 1.25, "a b"), Cue(1.25, 2.0, "c")]
    assert parse_cues(render_srt(cues)) == cues and parse_cues(render_vtt(cues)) == cues
    assert text_of(cues) == "a b c"
