"""The SSE decoder survives any fragmentation of the byte stream."""
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
