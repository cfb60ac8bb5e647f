"""Recognising tool calls in a model's reply, in the shapes models really write them."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from api.tool_emulation.spec import ToolSpec


@dataclass
class ParsedReply:
    """`calls`: (name, arguments) of each recognised call, before validation; `text`: the prose
    left around them (the whole reply when nothing was recognised); `problems`: why a call-shaped
    reply was not accepted (unknown tool, arguments not JSON, schema errors), for the repair."""

    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    text: str = ""
    problems: list[str] = field(default_factory=list)


def parse_reply(reply: str, spec: ToolSpec) -> ParsedReply:
    raise NotImplementedError
