"""Helpers for the /v1/responses end-to-end tests: raw SSE reading and schema checks of every event."""
from __future__ import annotations

import json

import httpx

from tests.conftest import TEST_KEY
from tests.openai_schema import validate

EVENT_SCHEMAS = {
    "response.created": "ResponseCreatedEvent",
    "response.in_progress": "ResponseInProgressEvent",
    "response.output_item.added": "ResponseOutputItemAddedEvent",
    "response.content_part.added": "ResponseContentPartAddedEvent",
    "response.output_text.delta": "ResponseTextDeltaEvent",
    "response.output_text.done": "ResponseTextDoneEvent",
    "response.content_part.done": "ResponseContentPartDoneEvent",
    "response.output_item.done": "ResponseOutputItemDoneEvent",
    "response.completed": "ResponseCompletedEvent",
    "response.incomplete": "ResponseIncompleteEvent",
    "response.failed": "ResponseFailedEvent",
    "response.function_call_arguments.delta": "ResponseFunctionCallArgumentsDeltaEvent",
    "response.function_call_arguments.done": "ResponseFunctionCallArgumentsDoneEvent",
    "response.web_search_call.in_progress": "ResponseWebSearchCallInProgressEvent",
    "response.web_search_call.searching": "ResponseWebSearchCallSearchingEvent",
    "response.web_search_call.completed": "ResponseWebSearchCallCompletedEvent",
}


def auth(key: str = TEST_KEY) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def prompts(sim) -> list[str]:
    return [r["json"]["promptObject"]["prompt"] for r in sim.requests_to("/api/chat-with-ai")]


def stream_events(relay, body: dict, key: str = TEST_KEY) -> list[dict]:
    """POST a streaming request and return its events, each checked against OpenAI's schema,
    its `event:` line and its sequence number."""
    events = []
    with httpx.stream("POST", f"{relay.url}/v1/responses", json={**body, "stream": True},
                      headers=auth(key), timeout=30) as response:
        assert response.status_code == 200, response.read()
        assert response.headers["content-type"].startswith("text/event-stream")
        name = None
        for line in response.iter_lines():
            if line.startswith("event: "):
                name = line[7:]
            elif line.startswith("data: "):
                event = json.loads(line[6:])
                assert event["type"] == name
                validate(event, EVENT_SCHEMAS[event["type"]])
                events.append(event)
    assert [e["sequence_number"] for e in events] == list(range(len(events)))
    return events


def types(events: list[dict]) -> list[str]:
    return [e["type"] for e in events]


def post(relay, body: dict, key: str = TEST_KEY) -> httpx.Response:
    return httpx.post(f"{relay.url}/v1/responses", json=body, headers=auth(key), timeout=30)
