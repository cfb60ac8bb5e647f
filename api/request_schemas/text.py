"""Validation of OpenAI request bodies into typed requests; errors name the offending param."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from core.errors import InvalidRequest
from api.request_schemas.response_tools import ResponsesTools, parse_tools
from api.request_schemas.tools import parse_chat_tools
from api.structured_output import TextFormat, parse_format
from api.tool_emulation.spec import ToolSpec
from api.translators.responses import items_from_chat, items_to_messages, normalize_input

ONLINE_SUFFIX = ":online"
CHAT_ROLES = {"system", "developer", "user", "assistant", "tool", "function"}
TEXT_PART_TYPES = {"text", "refusal", "input_text", "output_text"}


@dataclass
class ChatRequest:
    model: str  # as the client sent it, `:online` included ("" for the default); the service
    # replaces it with what the answer reports (api.services.unified_chat.resolve_request)
    upstream_model: str
    web_search: bool
    messages: list[dict[str, Any]]
    stream: bool = False
    include_usage: bool = False
    stop: list[str] = field(default_factory=list)
    max_tokens: int | None = None
    response_format: TextFormat = field(default_factory=TextFormat)
    tools: ToolSpec | None = None  # None: no tool declared
    legacy_functions: bool = False  # declared through `functions`: answer with `function_call`


def require_object(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise InvalidRequest("The request body must be a JSON object.", code="invalid_json")
    return body


def parse_model(value: Any, param: str = "model") -> tuple[str, str, bool]:
    """(as sent, upstream id, web search) from a model name that may end in `:online`.

    No model gives ("", "", False): the service uses the default (api.model_registry.resolve_model).
    """
    if value is None:
        return "", "", False
    if not isinstance(value, str):
        raise InvalidRequest("`model` must be a string.", param=param, code="invalid_type")
    model = value.strip()
    if not model:
        raise InvalidRequest("`model` must not be blank; omit it to use the default model.", param=param)
    if model.lower().endswith(ONLINE_SUFFIX):
        base = model[: -len(ONLINE_SUFFIX)].strip()
        if not base:
            raise InvalidRequest("`model` names no model before `:online`.", param=param)
        return value, base, True
    return value, model, False


# The largest integer a count may be (OpenAI's own limit); past it, a value could not even be echoed.
MAX_INTEGER = 2**31 - 1


def whole_number(value: Any) -> int | None:
    """An integer as JSON Schema counts them (`5` and `5.0`, never `true`), or None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None


def _positive_int(body: dict[str, Any], name: str) -> int | None:
    value = body.get(name)
    if value is None:
        return None
    value = whole_number(value)
    if value is None or not 1 <= value <= MAX_INTEGER:
        raise InvalidRequest(f"`{name}` must be a positive integer (at most {MAX_INTEGER}).", param=name,
                             code="invalid_value")
    return value


def _stop(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value] if value else []
    if isinstance(value, list) and len(value) <= 4 and all(isinstance(s, str) for s in value):
        return [s for s in value if s]
    raise InvalidRequest("`stop` must be a string or a list of up to 4 strings.", param="stop")


def _check_content(content: Any, index: int) -> None:
    param = f"messages[{index}].content"
    if content is None or isinstance(content, str):
        return
    if not isinstance(content, list):
        raise InvalidRequest(f"`{param}` must be a string, null or a list of parts.", param=param)
    for j, part in enumerate(content):
        part_param = f"{param}[{j}]"
        if not isinstance(part, dict):
            raise InvalidRequest(f"`{part_param}` must be an object.", param=part_param)
        kind = part.get("type")
        if kind in TEXT_PART_TYPES:
            text = part.get("text") if kind != "refusal" else part.get("refusal")
            if not isinstance(text, str):
                raise InvalidRequest(f"`{part_param}` needs a string `{kind if kind == 'refusal' else 'text'}`.", param=part_param)
        elif kind == "image_url":
            image = part.get("image_url")
            url = image.get("url") if isinstance(image, dict) else image
            if not isinstance(url, str) or not url:
                raise InvalidRequest(f"`{part_param}.image_url.url` must be a URL or data URI.", param=f"{part_param}.image_url")
        else:
            # 1min.ai chat takes text and images only; refusing beats silently dropping input.
            raise InvalidRequest(
                f"Content parts of type `{kind}` are not supported by this relay; "
                "use `text` or `image_url`.",
                param=f"{part_param}.type",
                code="unsupported_content_type",
            )


def parse_messages(value: Any) -> list[dict[str, Any]]:
    if not isinstance(value, list) or not value:
        raise InvalidRequest("`messages` must be a non-empty list.", param="messages", code="missing_required_parameter" if value is None else "invalid_value")
    for i, message in enumerate(value):
        if not isinstance(message, dict):
            raise InvalidRequest(f"`messages[{i}]` must be an object.", param=f"messages[{i}]")
        role = message.get("role")
        if role not in CHAT_ROLES:
            raise InvalidRequest(
                f"`messages[{i}].role` must be one of {', '.join(sorted(CHAT_ROLES))}.",
                param=f"messages[{i}].role",
            )
        _check_content(message.get("content"), i)
        for name in ("name", "tool_call_id"):
            if message.get(name) is not None and not isinstance(message[name], str):
                raise InvalidRequest(f"`messages[{i}].{name}` must be a string.", param=f"messages[{i}].{name}")
        if message.get("tool_calls") is not None:
            _check_tool_calls(message["tool_calls"], i)
        call = message.get("function_call")
        if call is not None and not (isinstance(call, dict) and isinstance(call.get("name"), str)
                                     and isinstance(call.get("arguments"), str)):
            raise InvalidRequest(f"`messages[{i}].function_call` must be {{\"name\": string, \"arguments\": string}}.",
                                 param=f"messages[{i}].function_call")
    return value


def _check_tool_calls(calls: Any, index: int) -> None:
    """An assistant's earlier calls, as OpenAI shapes them: the history the model is shown."""
    param = f"messages[{index}].tool_calls"
    if not isinstance(calls, list):
        raise InvalidRequest(f"`{param}` must be a list.", param=param)
    for j, call in enumerate(calls):
        function = call.get("function") if isinstance(call, dict) else None
        if not (isinstance(call, dict) and isinstance(call.get("id"), str) and call.get("type") == "function"
                and isinstance(function, dict) and isinstance(function.get("name"), str)
                and isinstance(function.get("arguments"), str)):
            raise InvalidRequest(
                f"`{param}[{j}]` must be {{\"id\": string, \"type\": \"function\", "
                "\"function\": {\"name\": string, \"arguments\": string}}.",
                param=f"{param}[{j}]",
            )


def parse_chat(body: Any) -> ChatRequest:
    body = require_object(body)
    model, upstream_model, web_search = parse_model(body.get("model"))
    messages = parse_messages(body.get("messages"))
    n = body.get("n")
    if n is not None and n != 1:
        raise InvalidRequest("1min.ai returns one choice per request; `n` must be 1.", param="n", code="unsupported_value")
    stream = body.get("stream") or False
    if not isinstance(stream, bool):
        raise InvalidRequest("`stream` must be a boolean.", param="stream")
    options = body.get("stream_options") or {}
    if not isinstance(options, dict):
        raise InvalidRequest("`stream_options` must be an object.", param="stream_options")
    max_tokens = _positive_int(body, "max_completion_tokens") or _positive_int(body, "max_tokens")
    tools, legacy_functions = parse_chat_tools(body)
    # Not forwarded (1min.ai has no such knobs), but a value OpenAI would refuse is refused here too.
    _number(body, "temperature", 0, 2)
    _number(body, "top_p", 0, 1)
    _optional(body, "user", str, "a string")
    return ChatRequest(
        model=model,
        upstream_model=upstream_model,
        web_search=web_search,
        messages=messages,
        stream=stream,
        include_usage=bool(options.get("include_usage")) and stream,
        stop=_stop(body.get("stop")),
        max_tokens=max_tokens,
        response_format=parse_format(body.get("response_format"), "response_format", chat_style=True),
        tools=tools,
        legacy_functions=legacy_functions,
    )


# ---- POST /v1/responses ----------------------------------------------------------------------

REASONING_EFFORTS = ("none", "minimal", "low", "medium", "high", "xhigh")
REASONING_SUMMARIES = ("auto", "concise", "detailed")
VERBOSITIES = ("low", "medium", "high")
# Parameters of OpenAI's Responses API that this relay cannot honour: refused, never ignored.
UNSUPPORTED = {
    "background": "Background responses are not supported by this relay.",
    "conversation": "The Conversations API is not supported by this relay; use `previous_response_id`.",
    "prompt": "Prompt templates are not supported by this relay; send `input` and `instructions`.",
}


@dataclass
class ResponsesRequest:
    model: str  # as sent, `:online` included
    upstream_model: str
    web_search: bool
    items: list[dict[str, Any]]  # this turn's input as stored and listed by input_items
    messages: list[dict[str, Any]]  # this turn's input as chat messages, for the prompt
    instructions: str | None = None
    text_format: TextFormat = field(default_factory=TextFormat)
    verbosity: str | None = None
    reasoning: dict[str, Any] = field(default_factory=lambda: {"effort": None, "summary": None})
    max_output_tokens: int | None = None
    previous_response_id: str | None = None
    store: bool = True
    stream: bool = False
    echo: dict[str, Any] = field(default_factory=dict)  # accepted, not forwarded, echoed back
    tools: ResponsesTools = field(default_factory=ResponsesTools)
    web_search_call: bool = False  # web search asked for as a tool: the output gets a web_search_call item


def _optional(body: dict[str, Any], name: str, kind: type | tuple[type, ...], what: str) -> Any:
    value = body.get(name)
    if value is None:
        return None
    kinds = kind if isinstance(kind, tuple) else (kind,)
    # bool is an int in Python, but `true` is not a number in JSON.
    if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):
        raise InvalidRequest(f"`{name}` must be {what}.", param=name, code="invalid_type")
    return value


def _number(body: dict[str, Any], name: str, low: float, high: float) -> float:
    value = _optional(body, name, (int, float), "a number")
    if value is None:
        return 1.0
    if not low <= value <= high:
        raise InvalidRequest(f"`{name}` must be between {low:g} and {high:g}.", param=name, code="invalid_value")
    return value


def _one_of(value: Any, allowed: tuple[str, ...], param: str) -> Any:
    if value is not None and value not in allowed:
        raise InvalidRequest(
            f"Invalid value for `{param}`: {value!r}. Supported values are: {', '.join(allowed)}.",
            param=param, code="invalid_value",
        )
    return value


def _metadata(value: Any) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict) or len(value) > 16 or not all(
        isinstance(k, str) and len(k) <= 64 and isinstance(v, str) and len(v) <= 512 for k, v in value.items()
    ):
        raise InvalidRequest(
            "`metadata` must be an object of at most 16 string keys (64 characters) with string values "
            "(512 characters).", param="metadata", code="invalid_value",
        )
    return value


def _top_logprobs(body: dict[str, Any]) -> int | None:
    value = _optional(body, "top_logprobs", int, "an integer")
    if value is not None and not 0 <= value <= 20:
        raise InvalidRequest("`top_logprobs` must be between 0 and 20.", param="top_logprobs", code="invalid_value")
    return value


def _text_format(body: dict[str, Any]) -> tuple[TextFormat, str | None]:
    """`text.format` (OpenAI) or `response_format` (the earlier relay, chat style), and verbosity."""
    text, legacy = body.get("text"), body.get("response_format")
    if text is not None and not isinstance(text, dict):
        raise InvalidRequest("`text` must be an object.", param="text", code="invalid_type")
    text = text or {}
    verbosity = _one_of(text.get("verbosity"), VERBOSITIES, "text.verbosity")
    if legacy is not None and text.get("format") is not None:
        raise InvalidRequest("Send either `text.format` or `response_format`, not both.", param="response_format")
    if legacy is not None:
        return parse_format(legacy, "response_format", chat_style=True), verbosity
    return parse_format(text.get("format"), "text.format"), verbosity


def _reasoning(body: dict[str, Any]) -> dict[str, Any]:
    reasoning = body.get("reasoning")
    if reasoning is not None and not isinstance(reasoning, dict):
        raise InvalidRequest("`reasoning` must be an object.", param="reasoning", code="invalid_type")
    reasoning = reasoning or {}
    effort = _one_of(reasoning.get("effort"), REASONING_EFFORTS, "reasoning.effort")
    legacy = _one_of(body.get("reasoning_effort"), REASONING_EFFORTS, "reasoning_effort")
    if effort is not None and legacy is not None and effort != legacy:
        raise InvalidRequest("`reasoning.effort` and `reasoning_effort` disagree; send one.", param="reasoning_effort")
    summary = _one_of(reasoning.get("summary"), REASONING_SUMMARIES, "reasoning.summary")
    return {"effort": effort or legacy, "summary": summary}


def _input(body: dict[str, Any]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    if body.get("input") is not None and body.get("messages") is not None:
        raise InvalidRequest("Send either `input` or `messages` (the older chat-style field), not both.", param="messages")
    if body.get("messages") is not None:
        messages = parse_messages(body["messages"])
        return items_from_chat(messages), messages
    if body.get("input") is None:
        raise InvalidRequest("Missing required parameter: `input`.", param="input", code="missing_required_parameter")
    items = normalize_input(body["input"])
    return items, items_to_messages(items)


def parse_responses(body: Any) -> ResponsesRequest:
    body = require_object(body)
    for name, reason in UNSUPPORTED.items():
        if body.get(name):
            raise InvalidRequest(reason, param=name, code="unsupported_parameter")
    model, upstream_model, web_search = parse_model(body.get("model"))
    items, messages = _input(body)
    text_format, verbosity = _text_format(body)
    tools = parse_tools(body)
    parallel = tools.spec.parallel
    store = _optional(body, "store", bool, "a boolean")
    stream = _optional(body, "stream", bool, "a boolean")
    echo = {
        "temperature": _number(body, "temperature", 0, 2),
        "top_p": _number(body, "top_p", 0, 1),
        "tools": tools.echo,
        "tool_choice": tools.choice_echo,
        "parallel_tool_calls": parallel,
        "metadata": _metadata(body.get("metadata")),
        "truncation": _one_of(body.get("truncation"), ("auto", "disabled"), "truncation") or "disabled",
        "service_tier": _one_of(body.get("service_tier"), ("auto", "default", "flex", "scale", "priority"), "service_tier"),
        "top_logprobs": _top_logprobs(body),
        "max_tool_calls": _positive_int(body, "max_tool_calls"),
        "user": _optional(body, "user", str, "a string"),
        "safety_identifier": _optional(body, "safety_identifier", str, "a string"),
        "prompt_cache_key": _optional(body, "prompt_cache_key", str, "a string"),
    }
    _optional(body, "include", list, "a list")
    previous = _optional(body, "previous_response_id", str, "a string")
    instructions = _optional(body, "instructions", str, "a string")
    return ResponsesRequest(
        model=model, upstream_model=upstream_model, web_search=web_search or tools.web_search, items=items, messages=messages,
        instructions=instructions or None, text_format=text_format, verbosity=verbosity,
        reasoning=_reasoning(body), max_output_tokens=_positive_int(body, "max_output_tokens"),
        previous_response_id=previous or None, store=True if store is None else store,
        stream=bool(stream), echo=echo, tools=tools, web_search_call=tools.web_search,
    )


@dataclass
class ItemListParams:
    limit: int = 20
    order: str = "desc"
    after: str | None = None


def parse_item_list_params(query: Any) -> ItemListParams:
    """`limit` (1-100), `order` (asc or desc) and `after` of GET /v1/responses/{id}/input_items."""
    raw_limit = query.get("limit")
    limit = 20
    if raw_limit not in (None, ""):
        if not str(raw_limit).isdigit() or not 1 <= int(raw_limit) <= 100:
            raise InvalidRequest("`limit` must be an integer between 1 and 100.", param="limit", code="invalid_value")
        limit = int(raw_limit)
    order = query.get("order") or "desc"
    _one_of(order, ("asc", "desc"), "order")
    return ItemListParams(limit, order, query.get("after") or None)
