"""Anthropic Messages input (system, messages with blocks) to the chat-style messages every text path uses."""
from __future__ import annotations

import json
from typing import Any

ChatMessage = dict[str, Any]


def image_url(block: dict[str, Any]) -> str:
    """An image block's source as the URL or data: URI the shared image input path takes."""
    source = block["source"]
    if source["type"] == "base64":
        return f"data:{source['media_type']};base64,{source['data']}"
    return source["url"]


def _parts(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    parts = []
    for block in blocks:
        if block["type"] == "text":
            parts.append({"type": "text", "text": block["text"]})
        elif block["type"] == "image":
            parts.append({"type": "image_url", "image_url": {"url": image_url(block)}})
    return parts


def _collapse(parts: list[dict[str, Any]]) -> str | list[dict[str, Any]]:
    """Text-only content as one string (as most prompts are); parts otherwise."""
    if all(p["type"] == "text" for p in parts):
        return "\n".join(p["text"] for p in parts)
    return parts


def _tool_message(block: dict[str, Any]) -> ChatMessage:
    content = block.get("content")
    if isinstance(content, list):
        content = "\n".join(b["text"] for b in content if b["type"] == "text")
    content = content or ""
    if block.get("is_error"):
        content = "[the tool reported an error] " + content
    return {"role": "tool", "tool_call_id": block["tool_use_id"], "content": content}


def _tool_images(block: dict[str, Any]) -> list[dict[str, Any]]:
    """A tool result's images, for the user turn that carries the result: tool messages are text
    in the engine's transcript, and images travel as attachments of the prompt anyway."""
    content = block.get("content")
    images = [b for b in content if b["type"] == "image"] if isinstance(content, list) else []
    if not images:
        return []
    return [{"type": "text", "text": f"(images from the result of call {block['tool_use_id']})"}, *_parts(images)]


def _tool_call(block: dict[str, Any]) -> dict[str, Any]:
    arguments = json.dumps(block["input"], ensure_ascii=False)
    return {"id": block["id"], "type": "function", "function": {"name": block["name"], "arguments": arguments}}


def _message(message: dict[str, Any]) -> list[ChatMessage]:
    role, content = message["role"], message["content"]
    if isinstance(content, str):
        return [{"role": role, "content": content}]
    out: list[ChatMessage] = []
    if role == "user":
        # Anthropic puts tool results in the user turn; chat gives each its own `tool` message.
        out.extend(_tool_message(b) for b in content if b["type"] == "tool_result")
    parts = [p for b in content if b["type"] == "tool_result" for p in _tool_images(b)] + _parts(content)
    calls = [_tool_call(b) for b in content if b["type"] == "tool_use"]
    if calls:
        text = "\n".join(p["text"] for p in parts if p["type"] == "text")
        out.append({"role": "assistant", "content": text or None, "tool_calls": calls})
    elif parts:
        out.append({"role": role, "content": _collapse(parts)})
    return out


def to_chat_messages(system: list[str], messages: list[dict[str, Any]]) -> list[ChatMessage]:
    """The whole conversation as chat messages: the system text first, then each turn in order
    (tool results as `tool` messages, tool_use blocks as assistant `tool_calls`, thinking dropped)."""
    out: list[ChatMessage] = []
    if system:
        out.append({"role": "system", "content": "\n\n".join(system)})
    for message in messages:
        out.extend(_message(message))
    return out

