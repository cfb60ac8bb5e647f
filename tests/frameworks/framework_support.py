"""Shared by the framework tests: model replies in the relay's tool-calling convention, and the
prompts the simulator received."""
from __future__ import annotations

import json

from tests.conftest import TEST_KEY

MODEL = "gpt-4o-mini"
API_KEY = TEST_KEY


def tool_call_reply(name: str, arguments: dict) -> str:
    """A model reply calling one tool, as the relay's prompt asks models to write it."""
    return f'<tool_call>{json.dumps({"name": name, "arguments": arguments})}</tool_call>'


def prompts(sim) -> list[str]:
    """The prompt of each chat call the relay made upstream, oldest first."""
    return [r["json"]["promptObject"]["prompt"] for r in sim.requests_to("/api/chat-with-ai")]
