"""Unified chat streaming: event order, byte fragmentation, failure modes, client disconnects."""
from __future__ import annotations

import json

import httpx
import pytest

from tests.onemin_simulator import Simulator
from tests.simulator_tests.sse_helpers import KEY, chat_body, contents, first, parse_sse

STREAM = "/api/chat-with-ai?isStreaming=true"
TEXT = "Hi 你好，世界 👋🏽 done"


def read_stream(client: httpx.Client, body: dict) -> tuple[httpx.Response, bytes]:
    with client.stream("POST", STREAM, json=body, headers=KEY) as response:
        return response, b"".join(response.iter_bytes())


def test_it_streams_content_then_result_then_done(client: httpx.Client) -> None:
    response, raw = read_stream(client, chat_body("ping"))
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    events = parse_sse(raw)
    names = [n for n, _ in events]
    assert names[-2:] == ["result", "done"] and set(names[:-2]) == {"content"}
    deltas = contents(events)
    assert deltas[0] == "" and len(deltas) > 3
    record = first(events, "result")["aiRecord"]
    assert "".join(deltas) == record["aiRecordDetail"]["resultObject"][0]
    assert record["metadata"]["totalToken"] > 0
    assert first(events, "done") == {"message": "Stream completed"}
    assert b'data: {"content":""}\n\n' in raw and b"[DONE]" not in raw


def test_fragmented_bytes_rejoin_to_the_same_text(sim: Simulator, client: httpx.Client) -> None:
    sim.configure(chunk_size=3, chunk_delay_ms=1)
    sim.script({"text": TEXT})
    response, raw = read_stream(client, chat_body())
    assert "".join(contents(parse_sse(raw))) == TEXT
    # Recorded once the handler is done, which may be just after the client read the last byte.
    assert sim.wait_for(lambda: sim.requests_to("/api/chat-with-ai")[0]["stream_write_sizes"])
    sizes = sim.requests_to("/api/chat-with-ai")[0]["stream_write_sizes"]
    assert max(sizes) == 3 and len(sizes) == -(-len(raw) // 3)
    # Some 3-byte cut lands inside a multi-byte character, by construction of TEXT.
    cuts = [raw[i:i + 3] for i in range(0, len(raw), 3)]
    assert any(_undecodable(c) for c in cuts)


def _undecodable(piece: bytes) -> bool:
    try:
        piece.decode("utf-8")
    except UnicodeDecodeError:
        return True
    return False


def test_a_bad_model_streams_only_an_error_event(client: httpx.Client) -> None:
    response, raw = read_stream(client, chat_body(model="nope"))
    assert response.status_code == 200
    assert raw == b'event: error\ndata: {"error":"Model nope is not supported"}\n\n'


def test_web_search_refusal_is_an_error_event_when_streaming(sim: Simulator,
                                                             client: httpx.Client) -> None:
    sim.configure(web_search_400=True)
    _, raw = read_stream(client, chat_body(settings={"webSearchSettings": {"webSearch": True}}))
    assert parse_sse(raw) == [("error", json.dumps(
        {"error": "Web search is not available for this model"}, separators=(",", ":")))]


def test_stream_error_before(sim: Simulator, client: httpx.Client) -> None:
    sim.script({"stream_error_before": "upstream broke"})
    _, raw = read_stream(client, chat_body())
    assert parse_sse(raw) == [("error", '{"error":"upstream broke"}')]


def test_stream_error_after_some_content(sim: Simulator, client: httpx.Client) -> None:
    sim.script({"stream_error_after": 3, "message": "mid-stream failure"})
    events = parse_sse(read_stream(client, chat_body())[1])
    assert [n for n, _ in events] == ["content"] * 3 + ["error"]
    assert first(events, "error") == {"error": "mid-stream failure"}


def test_drop_after_breaks_a_chunked_stream(sim: Simulator, client: httpx.Client) -> None:
    sim.script({"drop_after": 2})
    received = b""
    with pytest.raises(httpx.RemoteProtocolError):
        with client.stream("POST", STREAM, json=chat_body(), headers=KEY) as response:
            for piece in response.iter_bytes():
                received += piece
    assert [n for n, _ in parse_sse(received)] == ["content", "content"]


def test_drop_after_on_a_close_delimited_stream_just_ends(sim: Simulator,
                                                          client: httpx.Client) -> None:
    sim.configure(stream_transfer="close")
    sim.script({"drop_after": 2})
    response, raw = read_stream(client, chat_body())
    assert "transfer-encoding" not in response.headers
    assert [n for n, _ in parse_sse(raw)] == ["content", "content"]


def test_stall_after_hangs_then_closes(sim: Simulator, client: httpx.Client) -> None:
    sim.script({"stall_after": 1, "stall_ms": 5000})
    with client.stream("POST", STREAM, json=chat_body(), headers=KEY,
                       timeout=httpx.Timeout(10.0, read=0.3)) as response:
        chunks = response.iter_bytes()
        assert next(chunks) == b'event: content\ndata: {"content":""}\n\n'
        with pytest.raises(httpx.ReadTimeout):
            next(chunks)
    assert sim.wait_for(lambda: sim.requests_to("/api/chat-with-ai")[0]["stream_closed_by_client"])


@pytest.mark.parametrize("switch_in", ["script", "config"])
def test_duplicate_final_repeats_the_whole_text(sim: Simulator, client: httpx.Client,
                                                switch_in: str) -> None:
    if switch_in == "config":
        sim.configure(duplicate_final=True)
        sim.script({"text": TEXT})
    else:
        sim.script({"text": TEXT, "duplicate_final": True})
    deltas = contents(parse_sse(read_stream(client, chat_body())[1]))
    assert deltas[-1] == TEXT and "".join(deltas[:-1]) == TEXT


def test_multi_data_lines_join_into_valid_json(sim: Simulator, client: httpx.Client) -> None:
    sim.script({"text": TEXT, "multi_data_lines": True})
    raw = read_stream(client, chat_body())[1]
    assert b'data: {"content":\ndata: "H"}\n\n' in raw
    assert "".join(contents(parse_sse(raw))) == TEXT


def test_omit_result_and_crlf(sim: Simulator, client: httpx.Client) -> None:
    sim.script({"omit_result": True, "crlf": True})
    raw = read_stream(client, chat_body())[1]
    assert b"\r\n\r\n" in raw and b"\n\n" not in raw.replace(b"\r\n", b"")
    assert [n for n, _ in parse_sse(raw)][-1] == "done"
    assert "result" not in [n for n, _ in parse_sse(raw)]


def test_invalid_json_in_a_stream(sim: Simulator, client: httpx.Client) -> None:
    sim.script({"invalid_json": True})
    events = parse_sse(read_stream(client, chat_body())[1])
    with pytest.raises(json.JSONDecodeError):
        json.loads(events[0][1])


def test_it_notices_the_client_leaving_mid_stream(sim: Simulator, client: httpx.Client) -> None:
    sim.script({"text": "word " * 200, "chunk_delay_ms": 20})
    with client.stream("POST", STREAM, json=chat_body(), headers=KEY) as response:
        next(response.iter_bytes())
    assert sim.wait_for(lambda: sim.requests_to("/api/chat-with-ai")[0]["stream_closed_by_client"])
    assert sim.wait_for(lambda: sim.requests_to("/api/chat-with-ai")[0]["stream_write_sizes"] is not None)
    sizes = sim.requests_to("/api/chat-with-ai")[0]["stream_write_sizes"]
    assert len(sizes) < 100  # it stopped writing instead of finishing ~250 events


def test_a_complete_stream_is_not_reported_as_a_disconnect(sim: Simulator,
                                                           client: httpx.Client) -> None:
    read_stream(client, chat_body())
    assert sim.wait_for(lambda: sim.requests_to("/api/chat-with-ai")[0]["stream_write_sizes"])
    assert sim.requests_to("/api/chat-with-ai")[0]["stream_closed_by_client"] is False


def test_legacy_chat_streams_raw_text_when_enabled(sim: Simulator, client: httpx.Client) -> None:
    sim.configure(legacy_chat="works", chunk_size=2)
    sim.script({"text": TEXT}, path="/api/features")
    body = {"type": "CHAT_WITH_AI", "model": "gpt-4o-mini", "promptObject": {"prompt": "hi"}}
    with client.stream("POST", "/api/features?isStreaming=true", json=body,
                       headers=KEY) as response:
        raw = b"".join(response.iter_bytes())
    assert raw.decode("utf-8") == TEXT
    assert sim.wait_for(lambda: sim.requests_to("/api/features")[0]["stream_write_sizes"])
    assert max(sim.requests_to("/api/features")[0]["stream_write_sizes"]) == 2
