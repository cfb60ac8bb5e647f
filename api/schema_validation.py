"""Checking values against a client's JSON Schema: the one place the relay runs jsonschema."""
from __future__ import annotations

from typing import Any

from jsonschema import exceptions as schema_exceptions
from jsonschema.validators import validator_for

MAX_ERRORS = 10


def schema_problems(schema: dict[str, Any]) -> list[str]:
    """Why `schema` is not a usable JSON Schema ([] when it is)."""
    try:
        validator_for(schema).check_schema(schema)
    except schema_exceptions.SchemaError as error:
        return [f"{json_path(error.absolute_path)}: {error.message}"]
    return []


def instance_errors(value: Any, schema: dict[str, Any], max_errors: int = MAX_ERRORS) -> list[str]:
    """What is wrong with `value` under `schema`, as `$.path: message` lines, at most `max_errors`."""
    validator = validator_for(schema)(schema)
    found = sorted(validator.iter_errors(value), key=lambda e: (list(map(str, e.absolute_path)), e.message))
    return [f"{json_path(e.absolute_path)}: {e.message}" for e in found[:max_errors]]


def json_path(parts) -> str:
    path = "$"
    for part in parts:
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return path
