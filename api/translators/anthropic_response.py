"""Anthropic Messages output: the message object, its content blocks, and the stream's events."""
from __future__ import annotations

import json
import uuid
from typing import Any

# The relay's own finish reasons (api.output_limits) and 1min.ai's, as Anthropic's stop_reason.
_STOP_REASONS = {
    "length": "max_tokens", "max_tokens": "max_tokens", "max_output_tokens": "max_tokens",
    "model_length": "max_tokens", "stop": "end_turn", "tool_calls": "tool_use",
}


def message_id() -> str:
    return f"msg_{uuid.uuid4().hex[:24]}"


def tool_use_id(call_id: str | None = None) -> str:
    """`toolu_…`: the engine's `call_…` ids keep their random part, so a client's tool_result
    names the same call on the way back."""
    if call_id and call_id.startswith("call_"):
        return "toolu_" + call_id[len("call_"):]
    return f"toolu_{uuid.uuid4().hex[:24]}"


def stop_reason(local: str | None, upstream: Any, matched_stop: str | None = None) -> str:
    """end_turn, max_tokens, stop_sequence: from the relay's own cut first, then 1min.ai's reason."""
    if local == "stop" and matched_stop is not None:
        return "stop_sequence"
    if local is not None:
        return _STOP_REASONS.get(local, "end_turn")
    if isinstance(upstream, str):
        return _STOP_REASONS.get(upstream.strip().lower(), "end_turn")
    return "end_turn"


def usage(input_tokens: int, output_tokens: int) -> dict[str, Any]:
    return {
        "input_tokens": input_tokens,
        "output_tokens": output_tokens,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": 0,
    }


def text_block(text: str) -> dict[str, Any]:
    return {"type": "text", "text": text}


def tool_use_block(block_id: str, name: str, arguments: dict[str, Any]) -> dict[str, Any]:
    return {"type": "tool_use", "id": block_id, "name": name, "input": arguments}


def message(
    msg_id: str, model: str, content: list[dict[str, Any]], reason: str | None, sequence: str | None,
    usage_: dict[str, Any],
) -> dict[str, Any]:
    return {
        "id": msg_id,
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": content,
        "stop_reason": reason,
        "stop_sequence": sequence,
        "usage": usage_,
    }


# ---- stream events (each a dict whose `type` is also the SSE event name) -------------------

def message_start(msg_id: str, model: str, input_tokens: int) -> dict[str, Any]:
    return {"type": "message_start", "message": message(msg_id, model, [], None, None, usage(input_tokens, 1))}


def block_start(index: int, block: dict[str, Any]) -> dict[str, Any]:
    return {"type": "content_block_start", "index": index, "content_block": block}


def text_delta(index: int, text: str) -> dict[str, Any]:
    return {"type": "content_block_delta", "index": index, "delta": {"type": "text_delta", "text": text}}


def input_json_delta(index: int, partial_json: str) -> dict[str, Any]:
    return {"type": "content_block_delta", "index": index, "delta": {"type": "input_json_delta", "partial_json": partial_json}}


def block_stop(index: int) -> dict[str, Any]:
    return {"type": "content_block_stop", "index": index}


def message_delta(reason: str, sequence: str | None, input_tokens: int, output_tokens: int) -> dict[str, Any]:
    return {
        "type": "message_delta",
        "delta": {"stop_reason": reason, "stop_sequence": sequence},
        "usage": usage(input_tokens, output_tokens),
    }


PING = {"type": "ping"}
MESSAGE_STOP = {"type": "message_stop"}


def _pieces(text: str, size: int) -> list[str]:
    return [text[i:i + size] for i in range(0, len(text), size)] or [""]


def tool_use_events(index: int, block: dict[str, Any], piece_chars: int = 64) -> list[dict[str, Any]]:
    """One tool_use block as a stream: its start (input `{}`), its input as JSON pieces, its stop."""
    arguments = json.dumps(block["input"], ensure_ascii=False)
    return [block_start(index, {**block, "input": {}}),
            *(input_json_delta(index, p) for p in _pieces(arguments, piece_chars)), block_stop(index)]
