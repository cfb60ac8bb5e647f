"""Checking recognised calls against the request: tool schemas, the caller's choice, parallelism."""
from __future__ import annotations

from dataclasses import dataclass, field

from api.schema_validation import instance_errors
from api.tool_emulation.parse import ParsedReply
from api.tool_emulation.spec import ToolCall, ToolSpec, new_call_id


@dataclass
class Verdict:
    """`calls`: the validated calls (ids assigned); `text`: the prose around them, or the whole
    reply when it is plain text; `problems`: what a repair request must state ([] when usable)."""

    calls: list[ToolCall] = field(default_factory=list)
    text: str = ""
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def argument_problems(name: str, arguments: dict, spec: ToolSpec) -> list[str]:
    """Why `arguments` do not fit the `parameters` schema of the tool `name` ([] when they do)."""
    tool = spec.tool(name)
    if tool is None:
        return [f"`{name}` is not a declared tool."]
    return [f"The arguments of `{name}` are invalid at {error}" for error in instance_errors(arguments, tool.parameters)]


def check(parsed: ParsedReply, spec: ToolSpec) -> Verdict:
    """A parsed reply judged against `spec`: schema errors, a named choice calling another tool,
    `required`/named without any call. With `parallel` off the first valid call is kept alone."""
    problems = list(parsed.problems)
    calls: list[ToolCall] = []
    for name, arguments in parsed.calls:
        if spec.choice.mode == "named" and name != spec.choice.name:
            problems.append(f"You must call `{spec.choice.name}`, not `{name}`.")
            continue
        found = argument_problems(name, arguments, spec)
        if found:
            problems += found
        else:
            calls.append(ToolCall(new_call_id(), name, arguments))
    if not parsed.attempted and spec.choice.mode in ("required", "named"):
        wanted = f"the tool `{spec.choice.name}`" if spec.choice.mode == "named" else "at least one tool"
        problems.append(f"The reply holds no tool call, but it must call {wanted}.")
    if calls and not spec.parallel:
        # One call allowed: the first valid one is enough, whatever else the reply held.
        return Verdict(calls[:1], parsed.text)
    if problems:
        return Verdict([], parsed.text, problems)
    return Verdict(calls, parsed.text)
