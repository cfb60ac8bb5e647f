"""The SSE decoder survives any fragmentation of the byte stream."""
import asyncio

import orjson
import pytest

from api.streaming import SSEDecoder

STREAM = (
    'event: content\ndata: {"content":""}\n\n'
    'event: content\ndata: {"content":"你好，世界 👋🏽"}\n\n'
    'event: result\ndata: {"aiRecord":{"status":"SUCCESS"}}\n\n'
    'event: done\ndata: {"message":"Stream completed"}\n\n'
).encode()


def _decode(chunks):
    decoder = SSEDecoder()
    events = []
    for chunk in chunks:
        events.extend(decoder.feed(chunk))
    events.extend(decoder.close())
    return [(e.event, e.json()) for e in events]


EXPECTED = [
    ("content", {"content": ""}),
    ("content", {"content": "你好，世界 👋🏽"}),
    ("result", {"aiRecord": {"status": "SUCCESS"}}),
    ("done", {"message": "Stream completed"}),
]


@pytest.mark.parametrize("size", [1, 2, 3, 5, 7, 64, 10_000])
def test_it_decodes_streams_split_anywhere_even_inside_characters(size):
    chunks = [STREAM[i : i + size] for i in range(0, len(STREAM), size)]
    assert _decode(chunks) == EXPECTED


def test_it_accepts_crlf_line_ends_split_between_cr_and_lf():
    crlf = STREAM.replace(b"\n", b"\r\n")
    chunks = [crlf[i : i + 1] for i in range(len(crlf))]
    assert _decode(chunks) == EXPECTED


def test_it_joins_multi_line_data_and_ignores_comments():
    raw = b': keep-alive\nevent: content\ndata: {"content":\ndata: "x"}\n\n'
    assert _decode([raw]) == [("content", {"content": "x"})]


def test_it_flushes_an_unterminated_last_event():
    assert _decode([b'event: done\ndata: {"message":"end"}']) == [("done", {"message": "end"})]


def test_it_accepts_lone_cr_line_ends():
    assert _decode([STREAM.replace(b"\n", b"\r")]) == EXPECTED


def test_a_megabytes_long_event_is_decoded_whole_in_any_chunks():
    prompt = "naïve 日本語 \\\" " * 300_000
    line = b'event: result\ndata: ' + orjson.dumps({"aiRecord": {"promptObject": {"prompt": prompt}}}) + b"\n\n"
    decoder = SSEDecoder()
    events = [e for i in range(0, len(line), 16_384) for e in decoder.feed(line[i:i + 16_384])]
    assert len(events) == 1 and len(events[0].raw) > 5_000_000
    assert asyncio.run(events[0].json_async()) == {"aiRecord": {"promptObject": {"prompt": prompt}}}


@pytest.mark.parametrize("size", [1, 3, 7, 20])
def test_lf_and_crlf_chunks_mixed_in_one_stream_decode_alike(size):
    """LF-only chunks take a faster path than chunks with CR: a stream switching between them
    (a CRLF split across chunks included) still decodes to the same events."""
    mixed = STREAM[:60] + STREAM[60:120].replace(b"\n", b"\r\n") + STREAM[120:]
    chunks = [mixed[i : i + size] for i in range(0, len(mixed), size)]
    assert _decode(chunks) == EXPECTED


def test_fields_without_a_space_or_a_value_and_unknown_fields():
    raw = b'event:content\ndata:{"content":"a"}\nid: 7\nretry\n\n'
    assert _decode([raw]) == [("content", {"content": "a"})]
    assert _decode([raw[:9], raw[9:]]) == [("content", {"content": "a"})]


def test_an_event_past_the_cap_is_refused_however_it_grows():
    from core.errors import UpstreamError

    endless = SSEDecoder(max_event_bytes=100)
    endless.feed(b"event: content\ndata: " + b"x" * 60)
    with pytest.raises(UpstreamError, match="larger than the relay accepts"):
        endless.feed(b"x" * 60)  # a line that never ends
    lines = SSEDecoder(max_event_bytes=100)
    with pytest.raises(UpstreamError):
        for _ in range(30):
            lines.feed(b"data: xxxxxx\r\n")  # data lines with no blank line to end the event
    within = SSEDecoder(max_event_bytes=100)
    events = [e for _ in range(50) for e in within.feed(b'data: {"content":"' + b"y" * 60 + b'"}\n\n')]
    assert len(events) == 50  # the cap is per event, not per stream


def test_a_whole_event_past_the_cap_in_one_chunk_is_refused_too():
    from core.errors import UpstreamError

    with pytest.raises(UpstreamError):
        SSEDecoder(max_event_bytes=100).feed(b"data: " + b"x" * 200 + b"\n\n")
