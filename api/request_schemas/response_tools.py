"""The Responses API's `tools`, `tool_choice` and `parallel_tool_calls`, validated into a ToolSpec.

Function tools are emulated (api/tool_emulation); `web_search` / `web_search_preview` map to
1min.ai's web search; every other hosted tool is refused by name, never silently dropped.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from core.errors import InvalidRequest
from api.request_schemas.tools import MAX_TOOLS, function_tool
from api.tool_emulation.spec import Tool, ToolChoice, ToolSpec

WEB_SEARCH_TYPES = frozenset({"web_search", "web_search_2025_08_26", "web_search_preview", "web_search_preview_2025_03_11"})


@dataclass(frozen=True)
class ResponsesTools:
    """`echo`: the tools as a Response object echoes them; `spec`: what the model is offered;
    `web_search`: whether 1min.ai searches the web for this turn (a `web_search_call` item)."""

    echo: list[dict[str, Any]] = field(default_factory=list)
    choice_echo: Any = "auto"
    spec: ToolSpec = field(default_factory=lambda: ToolSpec(()))
    web_search: bool = False


def unsupported_tool(kind: str, param: str, label: str | None = None) -> InvalidRequest:
    named = f"`{kind}` tool `{label}`" if label else f"`{kind}` tool"
    return InvalidRequest(
        f"The {named} is not supported by this relay: 1min.ai cannot run it. Supported tools are "
        "`function` tools (emulated) and `web_search` / `web_search_preview` (1min.ai's web search).",
        param=param, code="unsupported_tool",
    )


def _function_tool(tool: dict[str, Any], param: str) -> tuple[dict[str, Any], Tool]:
    """The tool as a Response echoes it (strict by default, description and parameters always
    present) and as the model is offered it; checked as chat's function tools are."""
    checked = function_tool(tool, param)
    strict = True if tool.get("strict") is None else tool["strict"]
    echo = {**tool, "type": "function", "description": tool.get("description"), "parameters": tool.get("parameters"),
            "strict": strict}
    return echo, replace(checked, strict=strict)


def _label(tool: dict[str, Any]) -> str | None:
    for key in ("name", "server_label"):
        if isinstance(tool.get(key), str) and tool[key]:
            return tool[key]
    return None


def _tools(value: Any) -> tuple[list[dict[str, Any]], dict[str, Tool], bool]:
    if value is None:
        return [], {}, False
    if not isinstance(value, list) or len(value) > MAX_TOOLS:
        raise InvalidRequest(f"`tools` must be a list of at most {MAX_TOOLS} tools.", param="tools", code="invalid_value")
    tools, offered, web_search = [], [], False
    for i, tool in enumerate(value):
        param = f"tools[{i}]"
        if not isinstance(tool, dict) or not isinstance(tool.get("type"), str):
            raise InvalidRequest(f"`{param}` must be an object with a `type`.", param=param)
        kind = tool["type"]
        if kind == "function":
            tool, function = _function_tool(tool, param)
            if any(f.name == function.name for f in offered):
                raise InvalidRequest(f"Function names must be unique; `{function.name}` is declared twice.",
                                     param=f"{param}.name", code="invalid_value")
            offered.append(function)
        elif kind in WEB_SEARCH_TYPES:
            web_search = True
        else:
            raise unsupported_tool(kind, param, _label(tool))
        tools.append(tool)
    return tools, {t.name: t for t in offered}, web_search


def _choice(value: Any, functions: dict[str, Tool], web_search: bool) -> tuple[ToolChoice, dict[str, Tool], bool]:
    """(choice, the functions offered, web search on) for `tool_choice`."""
    if value is None or value == "auto":
        return ToolChoice("auto"), functions, web_search
    if value == "none":
        return ToolChoice("none"), functions, False
    if value == "required":
        return ToolChoice("required"), functions, web_search
    if not isinstance(value, dict) or not isinstance(value.get("type"), str):
        raise InvalidRequest("`tool_choice` must be none, auto, required or a tool object.", param="tool_choice",
                             code="invalid_value")
    kind = value["type"]
    if kind == "function":
        name = value.get("name")
        if name not in functions:
            raise InvalidRequest(f"`tool_choice` names the function `{name}`, which is not in `tools`.",
                                 param="tool_choice.name", code="invalid_value")
        return ToolChoice("named", name), functions, web_search
    if kind in WEB_SEARCH_TYPES:
        if not web_search:
            raise InvalidRequest(f"`tool_choice` asks for `{kind}`, which is not in `tools`.", param="tool_choice",
                                 code="invalid_value")
        # The search always runs when the tool is on; the model then answers from its results.
        return ToolChoice("auto"), functions, True
    if kind == "allowed_tools":
        return _allowed(value, functions, web_search)
    raise unsupported_tool(kind, "tool_choice", _label(value))


def _allowed(value: dict[str, Any], functions: dict[str, Tool], web_search: bool) -> tuple[ToolChoice, dict[str, Tool], bool]:
    mode, listed = value.get("mode"), value.get("tools")
    if mode not in ("auto", "required") or not isinstance(listed, list):
        raise InvalidRequest("`tool_choice` of type `allowed_tools` needs `mode` (auto or required) and a `tools` list.",
                             param="tool_choice", code="invalid_value")
    allowed, search = {}, False
    for j, tool in enumerate(listed):
        kind = tool.get("type") if isinstance(tool, dict) else None
        if kind == "function" and tool.get("name") in functions:
            allowed[tool["name"]] = functions[tool["name"]]
        elif kind in WEB_SEARCH_TYPES and web_search:
            search = True
        else:
            raise InvalidRequest(f"`tool_choice.tools[{j}]` is not one of the request's `tools`.",
                                 param=f"tool_choice.tools[{j}]", code="invalid_value")
    return ToolChoice(mode), allowed, search


def parse_tools(body: dict[str, Any]) -> ResponsesTools:
    tools, functions, web_search = _tools(body.get("tools"))
    parallel = body.get("parallel_tool_calls")
    if parallel is not None and not isinstance(parallel, bool):
        raise InvalidRequest("`parallel_tool_calls` must be a boolean.", param="parallel_tool_calls", code="invalid_type")
    choice, offered, search = _choice(body.get("tool_choice"), functions, web_search)
    spec = ToolSpec(tuple(offered.values()), choice, True if parallel is None else parallel)
    return ResponsesTools(tools, body.get("tool_choice") or "auto", spec, search)
