"""Structured outputs: the requested format, what the prompt asks for, and the reply made checked JSON."""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from api.errors import InvalidRequest
from api.schema_validation import instance_errors, schema_problems

TEXT, JSON_OBJECT, JSON_SCHEMA = "text", "json_object", "json_schema"
_MAX_CANDIDATES = 25  # start positions tried in a long reply full of braces
_MAX_ERRORS = 10
_FORMAT_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_FENCE = re.compile(r"```[ \t]*([A-Za-z0-9_+-]*)[ \t]*\r?\n(.*?)(?:```|\Z)", re.S)


@dataclass(frozen=True)
class TextFormat:
    """OpenAI's `text.format` (or the chat-style `response_format`), validated."""

    type: str = TEXT
    name: str | None = None
    schema: dict[str, Any] | None = None
    strict: bool | None = None
    description: str | None = None

    @property
    def is_json(self) -> bool:
        return self.type in (JSON_OBJECT, JSON_SCHEMA)

    def to_openai(self) -> dict[str, Any]:
        """The format as a Response object echoes it."""
        if self.type != JSON_SCHEMA:
            return {"type": self.type}
        echoed: dict[str, Any] = {"type": JSON_SCHEMA, "name": self.name, "schema": self.schema, "strict": bool(self.strict)}
        if self.description is not None:
            echoed["description"] = self.description
        return echoed


@dataclass
class Checked:
    """A reply after cleaning: the JSON text to return, or what is wrong with it."""

    json_text: str | None
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.json_text is not None


def parse_format(spec: Any, param: str, *, chat_style: bool = False) -> TextFormat:
    """A requested format, checked. `chat_style` also takes `{"type": "json_schema", "json_schema": {...}}`."""
    if spec is None:
        return TextFormat()
    if not isinstance(spec, dict):
        raise InvalidRequest(f"`{param}` must be an object.", param=param, code="invalid_type")
    kind = spec.get("type")
    if kind not in (TEXT, JSON_OBJECT, JSON_SCHEMA):
        raise InvalidRequest(
            f"Invalid value for `{param}.type`: {kind!r}. Supported values are: text, json_object, json_schema.",
            param=f"{param}.type", code="invalid_value",
        )
    if kind != JSON_SCHEMA:
        return TextFormat(kind)
    if chat_style and "json_schema" in spec:
        spec, param = spec["json_schema"], f"{param}.json_schema"
        if not isinstance(spec, dict):
            raise InvalidRequest(f"`{param}` must be an object.", param=param, code="invalid_type")
    return _json_schema_format(spec, param)


def _json_schema_format(spec: dict[str, Any], param: str) -> TextFormat:
    name, schema = spec.get("name"), spec.get("schema")
    if not isinstance(name, str) or not _FORMAT_NAME.match(name):
        raise InvalidRequest(f"`{param}.name` must be 1-64 letters, digits, `_` or `-`.", param=f"{param}.name",
                             code="missing_required_parameter" if name is None else "invalid_value")
    if not isinstance(schema, dict):
        raise InvalidRequest(f"`{param}.schema` must be a JSON Schema object.", param=f"{param}.schema",
                             code="missing_required_parameter" if schema is None else "invalid_type")
    problems = schema_problems(schema)
    if problems:
        raise InvalidRequest(f"Invalid schema for `{name}`: {problems[0]}", param=f"{param}.schema", code="invalid_value")
    strict, description = spec.get("strict"), spec.get("description")
    if strict is not None and not isinstance(strict, bool):
        raise InvalidRequest(f"`{param}.strict` must be a boolean.", param=f"{param}.strict", code="invalid_type")
    if description is not None and not isinstance(description, str):
        raise InvalidRequest(f"`{param}.description` must be a string.", param=f"{param}.description", code="invalid_type")
    return TextFormat(JSON_SCHEMA, name, schema, strict, description)


def prompt_instructions(fmt: TextFormat) -> str | None:
    """The sentence added to the prompt so the model answers in the requested format."""
    rules = "Reply with the JSON only: no text before or after it and no Markdown code fences."
    if fmt.type == JSON_OBJECT:
        return f"Respond with one valid JSON object. {rules}"
    if fmt.type == JSON_SCHEMA:
        about = f" ({fmt.description})" if fmt.description else ""
        schema = json.dumps(fmt.schema, ensure_ascii=False, separators=(",", ":"))
        return (
            f"Respond with JSON that is valid against the JSON Schema named \"{fmt.name}\"{about} below. "
            f"Include every required property and no property the schema does not allow. {rules}\n"
            f"JSON Schema: {schema}"
        )
    return None


def requested_instructions(body: dict[str, Any]) -> str | None:
    """The format sentence a request body would add to the prompt, read leniently (no validation,
    which comes later) so the tokens reserved before the call include the schema."""
    spec = body.get("response_format")
    if spec is None and isinstance(body.get("text"), dict):
        spec = body["text"].get("format")
    if not isinstance(spec, dict) or spec.get("type") not in (JSON_OBJECT, JSON_SCHEMA):
        return None
    if isinstance(spec.get("json_schema"), dict):
        spec = {"type": spec["type"], **spec["json_schema"]}
    schema, name, about = spec.get("schema"), spec.get("name"), spec.get("description")
    return prompt_instructions(TextFormat(
        spec["type"], name if isinstance(name, str) else "", schema if isinstance(schema, dict) else {},
        None, about if isinstance(about, str) else None,
    ))


def with_instructions(messages: list[dict[str, Any]], fmt: TextFormat) -> list[dict[str, Any]]:
    """Chat messages with the format's instructions as a leading system message (none for text)."""
    sentence = prompt_instructions(fmt)
    return [{"role": "system", "content": sentence}, *messages] if sentence else messages


def repair_instructions(fmt: TextFormat, errors: list[str]) -> str:
    """The follow-up turn that asks the model to correct an invalid reply."""
    what = f"the JSON Schema named \"{fmt.name}\"" if fmt.type == JSON_SCHEMA else "a JSON object"
    problems = "\n".join(f"- {e}" for e in errors[:_MAX_ERRORS])
    return (
        f"Your previous reply was not valid JSON for {what}. Problems found:\n{problems}\n"
        "Reply again with only the corrected JSON: no explanation and no Markdown code fences."
    )


def check(reply: str, fmt: TextFormat) -> Checked:
    """Clean `reply` (code fences, prose around the JSON) and check it against `fmt`.

    Every JSON value found is tried in order (the whole reply, fenced blocks, then each `{` or `[`);
    the first that satisfies the format wins. Otherwise the errors of the first JSON value found
    are reported, or that no JSON was found at all.
    """
    first_errors: list[str] | None = None
    for text, value in _candidates(reply):
        errors = _format_errors(value, fmt)
        if not errors:
            return Checked(text)
        if first_errors is None:
            first_errors = errors
    if first_errors is None:
        return Checked(None, ["The reply contains no valid JSON value."])
    return Checked(None, first_errors)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


_DECODER = json.JSONDecoder(parse_constant=_reject_constant)


def _whole(text: str) -> tuple[str, Any] | None:
    text = text.strip()
    try:
        value, end = _DECODER.raw_decode(text)
    except ValueError:
        return None
    return (text, value) if text[end:].strip() == "" else None


def _candidates(reply: str):
    reply = reply.lstrip("\ufeff")
    seen: set[int] = set()
    whole = _whole(reply)
    if whole is not None:
        yield whole
    for match in _FENCE.finditer(reply):
        fenced = _whole(match.group(2))
        if fenced is not None:
            yield fenced
    starts = [m.start() for m in re.finditer(r"[\[{]", reply)][:_MAX_CANDIDATES]
    for start in starts:
        if start in seen:
            continue
        try:
            value, end = _DECODER.raw_decode(reply, start)
        except ValueError:
            continue
        # Values nested inside this one are not separate candidates.
        seen.update(s for s in starts if start <= s < end)
        yield reply[start:end], value


def _format_errors(value: Any, fmt: TextFormat) -> list[str]:
    if fmt.type == JSON_OBJECT:
        return [] if isinstance(value, dict) else [f"$: the reply is a JSON {_kind(value)}, not an object."]
    return instance_errors(value, fmt.schema, _MAX_ERRORS)


def _kind(value: Any) -> str:
    if isinstance(value, list):
        return "array"
    if isinstance(value, str):
        return "string"
    if isinstance(value, bool):
        return "boolean"
    if value is None:
        return "null"
    return "number"
