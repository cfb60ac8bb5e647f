"""Test-side helpers: a spec-following SSE parser and request bodies the relay would send."""
from __future__ import annotations

import json
from typing import Any, Optional

KEY = {"API-KEY": "test-key"}


def chat_body(prompt: str = "ping", model: str = "gpt-4o-mini", **prompt_extra: Any) -> dict:
    return {"type": "UNIFY_CHAT_WITH_AI", "model": model,
            "promptObject": {"prompt": prompt, **prompt_extra}}


def parse_sse(raw: bytes) -> list[tuple[str, str]]:
    """(event, data) pairs; data lines joined with "\\n"; CRLF or LF line ends."""
    text = raw.decode("utf-8").replace("\r\n", "\n")
    events = []
    for block in text.split("\n\n"):
        if not block.strip():
            continue
        name, data = "message", []
        for line in block.split("\n"):
            if line.startswith("event:"):
                name = line[6:].strip()
            elif line.startswith("data:"):
                value = line[5:]
                data.append(value[1:] if value.startswith(" ") else value)  # one space only
        events.append((name, "\n".join(data)))
    return events


def contents(events: list[tuple[str, str]]) -> list[str]:
    return [json.loads(d)["content"] for n, d in events if n == "content"]


def first(events: list[tuple[str, str]], name: str) -> Optional[Any]:
    return next((json.loads(d) for n, d in events if n == name), None)


def upload(client: Any, filename: str, data: bytes, content_type: str) -> dict:
    response = client.post("/api/assets", headers=KEY,
                           files={"asset": (filename, data, content_type)})
    assert response.status_code == 200, response.text
    return response.json()
