"""Checking values against a client's JSON Schema: the one place the relay runs jsonschema.

A client's schema is untrusted input: its `pattern` and `patternProperties` regexes run on the
model's reply inside the event loop. They are matched with RE2 (linear time in the input, so a
pattern such as `^(a+)+$` cannot backtrack for ever); a pattern RE2 cannot compile (lookaround,
backreferences, huge repetitions) makes the schema unusable, reported as a 400 before any call.
"""
from __future__ import annotations

import functools
from typing import Any, Iterator

import re2
from jsonschema import exceptions as schema_exceptions
from jsonschema.validators import extend, validator_for

MAX_ERRORS = 10
# Keywords whose values are data, not subschemas: a `pattern` key inside them is no regex.
_DATA_KEYWORDS = frozenset({"enum", "const", "default", "examples", "example"})
_RE2_OPTIONS = re2.Options()
_RE2_OPTIONS.log_errors = False  # a refused pattern is the client's mistake, reported to it, not logged


class PatternError(ValueError):
    """A schema regex RE2 cannot compile."""


@functools.lru_cache(maxsize=512)
def compile_pattern(pattern: str) -> Any:
    try:
        return re2.compile(pattern, _RE2_OPTIONS)
    except re2.error as error:
        reason = error.args[0].decode(errors="replace") if error.args and isinstance(error.args[0], bytes) else str(error)
        raise PatternError(reason) from None


def _search(pattern: str, text: str) -> bool:
    return compile_pattern(pattern).search(text) is not None


# ---- the keywords that run regexes, re-implemented on RE2 --------------------------------------

def _pattern(validator, pattern, instance, schema) -> Iterator[schema_exceptions.ValidationError]:
    if validator.is_type(instance, "string") and not _search(pattern, instance):
        yield schema_exceptions.ValidationError(f"{instance!r} does not match {pattern!r}")


def _pattern_properties(validator, pattern_properties, instance, schema):
    if not validator.is_type(instance, "object"):
        return
    for pattern, subschema in pattern_properties.items():
        for name, value in instance.items():
            if _search(pattern, name):
                yield from validator.descend(value, subschema, path=name, schema_path=pattern)


def _additional_properties(validator, additional, instance, schema):
    if not validator.is_type(instance, "object"):
        return
    declared = schema.get("properties", {})
    patterns = list(schema.get("patternProperties", {}))
    extras = [name for name in instance if name not in declared and not any(_search(p, name) for p in patterns)]
    if validator.is_type(additional, "object"):
        for name in extras:
            yield from validator.descend(instance[name], additional, path=name)
    elif not additional and extras:
        if patterns:
            listed = ", ".join(repr(p) for p in sorted(patterns))
            verb = "does" if len(extras) == 1 else "do"
            yield schema_exceptions.ValidationError(
                f"{', '.join(repr(e) for e in sorted(extras))} {verb} not match any of the regexes: {listed}"
            )
        else:
            were = "was" if len(extras) == 1 else "were"
            yield schema_exceptions.ValidationError(
                f"Additional properties are not allowed ({', '.join(repr(e) for e in extras)} {were} unexpected)"
            )


_RE2_KEYWORDS = {"pattern": _pattern, "patternProperties": _pattern_properties, "additionalProperties": _additional_properties}


@functools.lru_cache(maxsize=None)
def _bounded(base: type) -> type:
    """`base` (the schema's draft) with every regex keyword matched by RE2."""
    return extend(base, _RE2_KEYWORDS)


# ---- schema checks and instance checks --------------------------------------------------------

def _regex_problems(node: Any, path: list[Any]) -> Iterator[str]:
    """Each regex of the schema RE2 refuses, and the combination it cannot bound."""
    if isinstance(node, list):
        for i, child in enumerate(node):
            yield from _regex_problems(child, [*path, i])
        return
    if not isinstance(node, dict):
        return
    if isinstance(node.get("pattern"), str):
        yield from _compile_problem(node["pattern"], [*path, "pattern"])
    if isinstance(node.get("patternProperties"), dict):
        for pattern in node["patternProperties"]:
            yield from _compile_problem(pattern, [*path, "patternProperties", pattern])
        if "unevaluatedProperties" in node:
            # jsonschema evaluates this pair with Python's backtracking `re`: refused, not risked.
            yield (f"{json_path([*path, 'unevaluatedProperties'])}: `unevaluatedProperties` beside "
                   "`patternProperties` is not supported by this relay; use `additionalProperties`.")
    for key, child in node.items():
        if key not in _DATA_KEYWORDS and not (key == "pattern" and isinstance(child, str)):
            yield from _regex_problems(child, [*path, key])


def _compile_problem(pattern: str, path: list[Any]) -> Iterator[str]:
    try:
        compile_pattern(pattern)
    except PatternError as error:
        yield (f"{json_path(path)}: the regex {pattern!r} is not supported ({error}); this relay matches "
               "patterns with RE2, which has no lookaround or backreferences.")


def schema_problems(schema: dict[str, Any]) -> list[str]:
    """Why `schema` is not a usable JSON Schema ([] when it is)."""
    try:
        validator_for(schema).check_schema(schema)
    except schema_exceptions.SchemaError as error:
        return [f"{json_path(error.absolute_path)}: {error.message}"]
    return list(_regex_problems(schema, []))[:MAX_ERRORS]


def instance_errors(value: Any, schema: dict[str, Any], max_errors: int = MAX_ERRORS) -> list[str]:
    """What is wrong with `value` under `schema`, as `$.path: message` lines, at most `max_errors`."""
    validator = _bounded(validator_for(schema))(schema)
    try:
        found = sorted(validator.iter_errors(value), key=lambda e: (list(map(str, e.absolute_path)), e.message))
    except PatternError as error:  # a schema that skipped schema_problems (a stored or internal one)
        return [f"$: the schema holds a regex RE2 cannot run ({error})."]
    return [f"{json_path(e.absolute_path)}: {e.message}" for e in found[:max_errors]]


def json_path(parts) -> str:
    path = "$"
    for part in parts:
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return path
