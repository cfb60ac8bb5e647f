"""Validate JSON payloads against OpenAI's published response schemas.

    from tests.openai_schema import validate, errors, schema_names

    validate(body, "CreateChatCompletionResponse")   # AssertionError listing every error
    errors(chunk, "CreateChatCompletionStreamResponse")  # -> list[str], [] when valid

Schemas come from ``openai-schemas.json`` (extracted from OpenAI's OpenAPI 3.1
spec by ``extract.py``; MIT licence, see LICENSE).  At load time the OpenAPI
dialect is converted to JSON Schema 2020-12:

* ``nullable: true`` -> null is also allowed (``type: [X, "null"]``; ``None``
  added to ``enum``; ``$ref``/``allOf``/``anyOf``/``oneOf``/``const`` schemas
  are wrapped as ``anyOf: [<schema>, {"type": "null"}]``); ``nullable: false``
  is dropped.
* ``discriminator`` and ``x-*`` keywords are dropped (schema positions only;
  property *names* are never touched).
* ``$recursiveRef: "#"`` (draft 2019-09, used once by ``CompoundFilter``) is
  rewritten to a ``$ref`` to the enclosing component, which is what it means
  there; 2020-12 would otherwise silently treat it as ``{}``.

Nothing else is loosened: ``required``, ``additionalProperties``, ``enum`` and
``type`` are kept exactly as published.  ``format`` is not asserted.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError, best_match
from referencing import Registry
from referencing.jsonschema import DRAFT202012

__all__ = ["validate", "errors", "schema_names", "load_schemas", "SCHEMA_FILE", "DOCUMENT_URI"]

SCHEMA_FILE = Path(__file__).resolve().parent / "openai-schemas.json"
DOCUMENT_URI = "urn:openai-openapi:schemas"
_REF_PREFIX = "#/components/schemas/"

# Keywords whose value is a subschema / map of subschemas / list of subschemas.
_SUBSCHEMA = {
    "items", "additionalProperties", "not", "propertyNames", "contains", "if", "then",
    "else", "unevaluatedProperties", "unevaluatedItems", "additionalItems",
}
_SUBSCHEMA_MAP = {"properties", "patternProperties", "$defs", "definitions", "dependentSchemas"}
_SUBSCHEMA_LIST = {"allOf", "anyOf", "oneOf", "prefixItems"}
_WRAP_WHEN_NULLABLE = {"$ref", "allOf", "anyOf", "oneOf", "const", "not"}
_MAX_MESSAGE = 300


def _convert(schema: Any, component: str) -> Any:
    """Return a JSON Schema 2020-12 copy of one OpenAPI 3.x schema object."""
    if not isinstance(schema, dict):
        return schema  # boolean schemas
    out: dict[str, Any] = {}
    nullable = False
    for key, value in schema.items():
        if key == "nullable":
            nullable = value is True
        elif key == "discriminator" or key.startswith("x-"):
            continue
        elif key == "$recursiveAnchor":
            continue
        elif key == "$recursiveRef":
            if value != "#":
                raise ValueError(f"{component}: unsupported $recursiveRef {value!r}")
            out["$ref"] = _REF_PREFIX + component
        elif key in _SUBSCHEMA:
            if isinstance(value, list):  # pre-2020 tuple form of items
                out[key] = [_convert(v, component) for v in value]
            else:
                out[key] = _convert(value, component)
        elif key in _SUBSCHEMA_MAP:
            out[key] = {name: _convert(v, component) for name, v in value.items()}
        elif key in _SUBSCHEMA_LIST:
            out[key] = [_convert(v, component) for v in value]
        else:
            out[key] = copy.deepcopy(value)

    if not nullable:
        return out
    if _WRAP_WHEN_NULLABLE & out.keys():
        return {"anyOf": [out, {"type": "null"}]}
    if "type" in out:
        types = out["type"] if isinstance(out["type"], list) else [out["type"]]
        if "null" not in types:
            out["type"] = [*types, "null"]
    if "enum" in out and None not in out["enum"]:
        out["enum"] = [*out["enum"], None]
    # No type/enum/combinator: the schema already accepts null.
    return out


@lru_cache(maxsize=1)
def load_schemas() -> dict[str, Any]:
    """The extracted document, with ``components.schemas`` converted to 2020-12."""
    with SCHEMA_FILE.open(encoding="utf-8") as fh:
        raw = json.load(fh)
    schemas = raw["components"]["schemas"]
    converted = {name: _convert(s, name) for name, s in schemas.items()}
    return {"components": {"schemas": converted}}


def published_schema(name: str) -> dict[str, Any]:
    """One schema exactly as published (OpenAPI 3.0, before the conversion to 2020-12)."""
    with SCHEMA_FILE.open(encoding="utf-8") as fh:
        return json.load(fh)["components"]["schemas"][name]


@lru_cache(maxsize=1)
def _registry() -> Registry:
    resource = DRAFT202012.create_resource(load_schemas())
    return Registry().with_resource(DOCUMENT_URI, resource).crawl()


def schema_names() -> list[str]:
    return sorted(load_schemas()["components"]["schemas"])


@lru_cache(maxsize=None)
def _validator(schema_name: str) -> Draft202012Validator:
    if schema_name not in load_schemas()["components"]["schemas"]:
        raise KeyError(
            f"unknown OpenAI schema {schema_name!r}; see tests.openai_schema.schema_names()"
        )
    root = {"$ref": f"{DOCUMENT_URI}{_REF_PREFIX}{schema_name}"}
    # No format_checker: "format" stays an annotation.
    return Draft202012Validator(root, registry=_registry())


def _short(text: str) -> str:
    return text if len(text) <= _MAX_MESSAGE else text[: _MAX_MESSAGE - 3] + "..."


def _branch_errors(error: ValidationError) -> list[ValidationError] | None:
    """For a failed anyOf/oneOf over a ``type``-tagged union, the errors of the
    branch(es) whose ``type`` matched the instance (i.e. what a discriminator
    would have selected).  None when that cannot be determined."""
    if error.validator not in ("anyOf", "oneOf") or not error.context:
        return None
    if not isinstance(error.instance, dict) or "type" not in error.instance:
        return None
    branches: dict[int, list[ValidationError]] = {}
    for sub in error.context:
        branches.setdefault(sub.relative_schema_path[0], []).append(sub)
    candidates = [
        errs
        for errs in branches.values()
        if not any(
            list(e.relative_path) == ["type"] and e.validator in ("enum", "const")
            for e in errs
        )
    ]
    if not candidates or len(candidates) == len(branches):
        return None
    return [e for errs in candidates for e in errs]


def _describe(error: ValidationError, depth: int = 0) -> Iterable[str]:
    yield f"{'  ' * depth}{error.json_path}: {_short(error.message)}"
    if depth >= 4 or error.validator not in ("anyOf", "oneOf") or not error.context:
        return
    chosen = _branch_errors(error)
    if chosen is None:
        best = best_match(error.context)
        chosen = [best] if best is not None else []
        label = "closest alternative"
    else:
        label = "alternative(s) matching 'type'"
    if chosen:
        yield f"{'  ' * (depth + 1)}{label}:"
        for sub in sorted(chosen, key=lambda e: (list(map(str, e.path)), e.message)):
            yield from _describe(sub, depth + 2)


def errors(instance: Any, schema_name: str) -> list[str]:
    """Every validation error as ``"<json path>: <message>"`` (empty when valid).

    Failed ``anyOf``/``oneOf`` entries are followed by indented lines for the
    most relevant alternative(s)."""
    validator = _validator(schema_name)
    found = sorted(
        validator.iter_errors(instance),
        key=lambda e: (list(map(str, e.path)), list(map(str, e.schema_path))),
    )
    return [line for e in found for line in _describe(e)]


def validate(instance: Any, schema_name: str) -> None:
    """Raise ``AssertionError`` listing every error unless ``instance`` is valid."""
    problems = errors(instance, schema_name)
    if problems:
        raise AssertionError(
            f"payload does not match OpenAI schema {schema_name!r} "
            f"({sum(1 for p in problems if not p.startswith(' '))} error(s)):\n"
            + "\n".join(f"  {p}" for p in problems)
        )
