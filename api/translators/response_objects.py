"""OpenAI Responses API shapes: the Response object, its stream events and input item lists."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from core.errors import InvalidRequest

if TYPE_CHECKING:
    from api.request_schemas.text import ResponsesRequest

COMPLETED, INCOMPLETE, FAILED, IN_PROGRESS = "completed", "incomplete", "failed", "in_progress"


def usage(input_tokens: int, output_tokens: int) -> dict[str, Any]:
    return {
        "input_tokens": input_tokens,
        "input_tokens_details": {"cached_tokens": 0, "cache_write_tokens": 0},
        "output_tokens": output_tokens,
        "output_tokens_details": {"reasoning_tokens": 0},
        "total_tokens": input_tokens + output_tokens,
    }


def text_part(text: str) -> dict[str, Any]:
    return {"type": "output_text", "text": text, "annotations": [], "logprobs": []}


def message_item(item_id: str, text: str | None, status: str) -> dict[str, Any]:
    """The assistant's output message; `text=None` for one that has no content part yet."""
    content = [] if text is None else [text_part(text)]
    return {"id": item_id, "type": "message", "status": status, "content": content, "role": "assistant"}


def function_call_item(item_id: str, call_id: str, name: str, arguments: str, status: str) -> dict[str, Any]:
    """A `function_call` output item: the model asks the client to run `name` with `arguments` (JSON text)."""
    return {"id": item_id, "type": "function_call", "status": status, "call_id": call_id, "name": name,
            "arguments": arguments}


def web_search_item(item_id: str, status: str, query: str) -> dict[str, Any]:
    """A `web_search_call` output item: 1min.ai searched the web for this turn (`failed` when it refused)."""
    return {"id": item_id, "type": "web_search_call", "status": status, "action": {"type": "search", "query": query}}


def response(
    request: "ResponsesRequest",
    response_id: str,
    created_at: int,
    status: str,
    output: list[dict[str, Any]],
    *,
    token_usage: dict[str, Any] | None = None,
    error: dict[str, str] | None = None,
    incomplete_reason: str | None = None,
    completed_at: int | None = None,
) -> dict[str, Any]:
    """A complete Response object; the request's settings are echoed as OpenAI echoes them."""
    echo = request.echo
    body: dict[str, Any] = {
        "id": response_id,
        "object": "response",
        "created_at": created_at,
        "status": status,
        "background": False,
        "completed_at": completed_at if status == COMPLETED else None,
        "error": error,
        "incomplete_details": {"reason": incomplete_reason} if incomplete_reason else None,
        "instructions": request.instructions,
        "max_output_tokens": request.max_output_tokens,
        "max_tool_calls": echo["max_tool_calls"],
        "model": request.model,
        "output": output,
        "parallel_tool_calls": echo["parallel_tool_calls"],
        "previous_response_id": request.previous_response_id,
        "prompt_cache_key": echo["prompt_cache_key"],
        "reasoning": dict(request.reasoning),
        "safety_identifier": echo["safety_identifier"],
        "service_tier": echo["service_tier"] if echo["service_tier"] not in (None, "auto") else "default",
        "store": request.store,
        "temperature": echo["temperature"],
        "text": {"format": request.text_format.to_openai(), "verbosity": request.verbosity or "medium"},
        "tool_choice": echo["tool_choice"],
        "tools": echo["tools"],
        "top_logprobs": echo["top_logprobs"] or 0,
        "top_p": echo["top_p"],
        "truncation": echo["truncation"],
    }
    # `usage` and `user` are not nullable in OpenAI's schema: absent rather than null.
    if token_usage is not None:
        body["usage"] = token_usage
    if echo["user"] is not None:
        body["user"] = echo["user"]
    body["metadata"] = echo["metadata"]
    return body


def failure(message: str) -> dict[str, str]:
    """The `error` of a failed Response (OpenAI's codes name no upstream cause more exactly)."""
    return {"code": "server_error", "message": message}


class EventSequence:
    """Numbers the events of one stream from 0, in the order they are made."""

    def __init__(self) -> None:
        self.number = 0

    def __call__(self, kind: str, **fields: Any) -> dict[str, Any]:
        event = {"type": kind, **fields, "sequence_number": self.number}
        self.number += 1
        return event


class MessageEvents:
    """The events of one output message (content part 0) of a streamed Response."""

    def __init__(self, seq: EventSequence, item_id: str, output_index: int = 0) -> None:
        self.seq, self.item_id, self.index = seq, item_id, output_index

    def opened(self) -> list[dict[str, Any]]:
        return [
            self.seq("response.output_item.added", output_index=self.index,
                     item=message_item(self.item_id, None, IN_PROGRESS)),
            self.seq("response.content_part.added", item_id=self.item_id, output_index=self.index, content_index=0,
                     part=text_part("")),
        ]

    def delta(self, text: str) -> dict[str, Any]:
        return self.seq("response.output_text.delta", item_id=self.item_id, output_index=self.index, content_index=0,
                        delta=text, logprobs=[])

    def closed(self, text: str, status: str) -> list[dict[str, Any]]:
        return [
            self.seq("response.output_text.done", item_id=self.item_id, output_index=self.index, content_index=0,
                     text=text, logprobs=[]),
            self.seq("response.content_part.done", item_id=self.item_id, output_index=self.index, content_index=0,
                     part=text_part(text)),
            self.seq("response.output_item.done", output_index=self.index,
                     item=message_item(self.item_id, text, status)),
        ]


def function_call_events(seq: EventSequence, item: dict[str, Any], output_index: int) -> list[dict[str, Any]]:
    """The events of one finished `function_call` item: added (no arguments yet), the arguments, done."""
    item_id, arguments = item["id"], item["arguments"]
    return [
        seq("response.output_item.added", output_index=output_index, item={**item, "status": IN_PROGRESS, "arguments": ""}),
        seq("response.function_call_arguments.delta", item_id=item_id, output_index=output_index, delta=arguments),
        seq("response.function_call_arguments.done", item_id=item_id, output_index=output_index, name=item["name"],
            arguments=arguments),
        seq("response.output_item.done", output_index=output_index, item=item),
    ]


def web_search_events(seq: EventSequence, item: dict[str, Any], output_index: int) -> list[dict[str, Any]]:
    """The events of a `web_search_call` item; 1min.ai searches inside the answer call, so they come together."""
    item_id = item["id"]
    steps = ["response.web_search_call.in_progress", "response.web_search_call.searching"]
    if item["status"] == COMPLETED:
        steps.append("response.web_search_call.completed")
    return [
        seq("response.output_item.added", output_index=output_index, item={**item, "status": IN_PROGRESS}),
        *(seq(step, output_index=output_index, item_id=item_id) for step in steps),
        seq("response.output_item.done", output_index=output_index, item=item),
    ]


TERMINAL_EVENTS = {COMPLETED: "response.completed", INCOMPLETE: "response.incomplete", FAILED: "response.failed"}


def item_list(items: list[dict[str, Any]], limit: int, order: str, after: str | None) -> dict[str, Any]:
    """A ResponseItemList page: `order` asc (oldest first) or desc, starting after item `after`."""
    ordered = items if order == "asc" else list(reversed(items))
    start = 0
    if after is not None:
        ids = [item["id"] for item in ordered]
        if after not in ids:
            raise InvalidRequest(f"No input item with id '{after}' in this response.", param="after", code="invalid_value")
        start = ids.index(after) + 1
    page = ordered[start:start + limit]
    return {
        "object": "list",
        "data": page,
        # The schema has no null ids; an empty page (after the last item) names none.
        "first_id": page[0]["id"] if page else "",
        "last_id": page[-1]["id"] if page else "",
        "has_more": start + limit < len(ordered),
    }
