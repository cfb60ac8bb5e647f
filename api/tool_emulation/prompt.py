"""What the model is told: the tools, the calling convention, earlier calls and results, repair requests."""
from __future__ import annotations

from typing import Any

from api.tool_emulation.spec import ToolSpec


def instructions(spec: ToolSpec) -> str:
    """The system text that declares the tools (with their JSON schemas) and how to call them,
    honouring `spec.choice` (auto / required / named) and `spec.parallel`."""
    raise NotImplementedError


def call_text(calls: list[dict[str, Any]]) -> str:
    """An assistant's earlier calls (OpenAI `tool_calls` items) written in the same convention the
    model is asked to use, so multi-turn loops stay coherent."""
    raise NotImplementedError


def result_text(call_id: str, name: str | None, content: str) -> str:
    """A tool result written for the transcript (the `tool` message's text)."""
    raise NotImplementedError


def repair_instructions(problems: list[str], spec: ToolSpec) -> str:
    """The follow-up user turn of the one repair request, stating each problem."""
    raise NotImplementedError
