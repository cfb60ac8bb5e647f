"""What a request declares about tools: the tools, the caller's choice, and whether calls may be parallel."""
from __future__ import annotations

import json
import secrets
import string
from dataclasses import dataclass, field
from typing import Any, Literal

ChoiceMode = Literal["auto", "none", "required", "named"]


@dataclass(frozen=True)
class Tool:
    name: str
    description: str = ""
    parameters: dict[str, Any] = field(default_factory=lambda: {"type": "object", "properties": {}})
    strict: bool = False


@dataclass(frozen=True)
class ToolChoice:
    mode: ChoiceMode = "auto"
    name: str | None = None  # set when mode == "named"


@dataclass(frozen=True)
class ToolSpec:
    tools: tuple[Tool, ...]
    choice: ToolChoice = ToolChoice()
    parallel: bool = True

    @property
    def active(self) -> bool:
        """Whether the model may call anything at all (tools declared and choice is not `none`)."""
        return bool(self.tools) and self.choice.mode != "none"

    def tool(self, name: str) -> Tool | None:
        return next((t for t in self.tools if t.name == name), None)


@dataclass(frozen=True)
class ToolCall:
    """One recognised, validated call. `id` is the relay's (`call_…`); endpoints re-prefix as needed."""

    id: str
    name: str
    arguments: dict[str, Any]

    @property
    def arguments_json(self) -> str:
        return json.dumps(self.arguments, ensure_ascii=False)


_ID_ALPHABET = string.ascii_letters + string.digits


def new_call_id(prefix: str = "call_") -> str:
    """A fresh call id shaped like OpenAI's (`call_` and 24 letters or digits)."""
    return prefix + "".join(secrets.choice(_ID_ALPHABET) for _ in range(24))
