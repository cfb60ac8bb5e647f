"""Streamed /v1/responses: OpenAI's event sequence, numbered and schema-valid, and the SDK helpers."""
import httpx
import openai
import pytest

from tests.conftest import TEST_KEY
from tests.e2e.responses_support import auth, stream_events, types

REPLY = "Hello, 世界! 你好 👋🏽 — naïve café 🚀 and more text to split into many deltas."
OPENING = ["response.created", "response.in_progress", "response.output_item.added", "response.content_part.added"]
CLOSING = ["response.output_text.done", "response.content_part.done", "response.output_item.done"]


@pytest.mark.parametrize("chunk_size", [None, 3])
def test_it_streams_openais_events_in_order_with_the_text_intact(relay, sim, chunk_size):
    # Events a millisecond apart arrive in reads of their own; each read's text is one delta.
    script = {"text": REPLY, "metadata": {"inputToken": 12, "outputToken": 34, "totalToken": 46}, "chunk_delay_ms": 1}
    if chunk_size:
        script["chunk_size"] = chunk_size
    sim.script(script)
    events = stream_events(relay, {"model": "gpt-4o-mini", "input": "hi"})
    names = types(events)
    deltas = [e for e in events if e["type"] == "response.output_text.delta"]
    assert names == OPENING + ["response.output_text.delta"] * len(deltas) + CLOSING + ["response.completed"]
    assert len(deltas) > 3 and "".join(d["delta"] for d in deltas) == REPLY
    created, final = events[0]["response"], events[-1]["response"]
    assert created["status"] == "in_progress" and created["output"] == [] and "usage" not in created
    assert final["id"] == created["id"] and final["status"] == "completed"
    assert final["output"][0]["content"][0]["text"] == REPLY
    assert final["usage"]["input_tokens"] == 12 and final["usage"]["output_tokens"] == 34
    item_id = events[2]["item"]["id"]
    assert all(e.get("item_id", item_id) == item_id for e in events[2:-1])
    assert final["output"][0]["id"] == item_id
    assert events[-2]["item"]["status"] == "completed"
    assert sim.requests_to("/api/chat-with-ai")[0]["query"].get("isStreaming") == "true"


def test_the_sdks_stream_helper_yields_text_deltas_and_a_final_response(client, sim):
    sim.script({"text": REPLY})
    with client.responses.stream(model="gpt-4o-mini", input="hi") as stream:
        text = "".join(e.delta for e in stream if e.type == "response.output_text.delta")
        final = stream.get_final_response()
    assert text == REPLY and final.output_text == REPLY and final.status == "completed"


def test_the_sdks_create_with_stream_true_iterates_the_events(client, sim):
    sim.script({"text": REPLY})
    events = list(client.responses.create(model="gpt-4o-mini", input="hi", stream=True))
    assert events[0].type == "response.created" and events[-1].type == "response.completed"
    assert events[-1].response.output_text == REPLY
    assert [e.sequence_number for e in events] == list(range(len(events)))


def test_max_output_tokens_ends_the_stream_with_response_incomplete(relay, sim):
    sim.script({"text": "one two three four five six seven", "chunk_size": 4})
    events = stream_events(relay, {"model": "gpt-4o-mini", "input": "count", "max_output_tokens": 3})
    assert types(events)[-4:] == CLOSING + ["response.incomplete"]
    assert "".join(e["delta"] for e in events if e["type"] == "response.output_text.delta") == "one two three"
    final = events[-1]["response"]
    assert final["status"] == "incomplete" and final["incomplete_details"] == {"reason": "max_output_tokens"}
    assert final["output"][0]["status"] == "incomplete" and final["usage"]["output_tokens"] == 3


def test_an_upstream_failure_mid_stream_ends_in_response_failed(relay, sim):
    sim.script({"text": REPLY, "stream_error_after": 3, "message": "provider exploded"})
    events = stream_events(relay, {"model": "gpt-4o-mini", "input": "x"})
    assert types(events)[:4] == OPENING and types(events)[-1] == "response.failed"
    assert "response.completed" not in types(events)
    failed = events[-1]["response"]
    assert failed["status"] == "failed" and failed["error"]["code"] == "server_error"
    assert "provider exploded" in failed["error"]["message"]
    sent = "".join(e["delta"] for e in events if e["type"] == "response.output_text.delta")
    assert sent and failed["output"][0]["content"][0]["text"] == sent and failed["output"][0]["status"] == "incomplete"


@pytest.mark.parametrize("transfer, message", [
    ("chunked", "The connection to 1min.ai broke during the stream."),
    ("close", "The connection to 1min.ai ended before the answer was complete."),
])
def test_a_dropped_upstream_connection_ends_in_response_failed(relay, sim, transfer, message):
    sim.configure(stream_transfer=transfer)
    sim.script({"text": REPLY, "drop_after": 3})
    events = stream_events(relay, {"model": "gpt-4o-mini", "input": "x"})
    assert types(events)[-1] == "response.failed"
    assert events[-1]["response"]["error"]["message"] == message


def test_an_upstream_error_before_any_content_is_a_real_http_error(client, sim):
    sim.script({"stream_error_before": "Model gpt-4o-mini is not supported"})
    with pytest.raises(openai.BadRequestError) as caught:
        client.responses.create(model="gpt-4o-mini", input="x", stream=True)
    assert "not supported" in caught.value.message
    sim.script({"status": 500, "message": "boom"})
    with pytest.raises(openai.APIStatusError) as caught:
        client.responses.create(model="gpt-4o-mini", input="x", stream=True)
    assert caught.value.status_code == 502


def test_a_streamed_response_is_stored_before_its_terminal_event(relay, sim):
    sim.script({"text": REPLY})
    events = stream_events(relay, {"model": "gpt-4o-mini", "input": "hi"})
    stored = httpx.get(f"{relay.url}/v1/responses/{events[-1]['response']['id']}", headers=auth()).json()
    assert stored == events[-1]["response"]


def test_a_client_disconnect_closes_the_upstream_request(relay, sim):
    sim.script({"text": "x" * 4000, "chunk_size": 16, "chunk_delay_ms": 20})
    with httpx.stream("POST", f"{relay.url}/v1/responses", headers={"Authorization": f"Bearer {TEST_KEY}"},
                      json={"model": "gpt-4o-mini", "stream": True, "input": "x"}, timeout=30) as response:
        for _ in response.iter_raw():
            break  # read one piece, then hang up
    assert sim.wait_for(
        lambda: any(r.get("stream_closed_by_client") for r in sim.requests_to("/api/chat-with-ai")), timeout=5.0
    )
