"""Schema regexes run on RE2: bounded in time, same answers as jsonschema's, unsupported ones refused."""
import time

import pytest

from api.schema_validation import instance_errors, schema_problems

EVIL = {"type": "string", "pattern": "^(a+)+$"}


def test_a_catastrophic_pattern_is_checked_in_bounded_time():
    started = time.perf_counter()
    errors = instance_errors("a" * 40 + "!", EVIL)
    assert time.perf_counter() - started < 0.5  # Python's `re` would backtrack for hours
    assert errors == ["$: 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!' does not match '^(a+)+$'"]
    assert instance_errors("a" * 40, EVIL) == []


def test_evil_property_name_patterns_are_bounded_too():
    schema = {"type": "object", "patternProperties": {"^(a+)+$": {"type": "integer"}}, "additionalProperties": False}
    started = time.perf_counter()
    errors = instance_errors({"a" * 40 + "!": 1, "aaa": "x"}, schema)
    assert time.perf_counter() - started < 0.5
    assert errors == ["$: 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!' does not match any of the regexes: '^(a+)+$'",
                      "$.aaa: 'x' is not of type 'integer'"]


@pytest.mark.parametrize(
    "schema, value, expected",
    [
        ({"type": "string", "pattern": "^[a-z]+\\d{2}$"}, "abc12", []),
        ({"type": "string", "pattern": "b"}, "abc", []),  # search, not match, as JSON Schema says
        ({"type": "string", "pattern": "^x"}, "abc", ["$: 'abc' does not match '^x'"]),
        ({"pattern": "^x"}, 5, []),  # pattern applies to strings only
        ({"type": "object", "properties": {"a": {}}, "additionalProperties": False}, {"a": 1, "b": 2},
         ["$: Additional properties are not allowed ('b' was unexpected)"]),
        ({"type": "object", "additionalProperties": {"type": "integer"}}, {"a": "x"}, ["$.a: 'x' is not of type 'integer'"]),
        ({"type": "object", "propertyNames": {"pattern": "^[a-z]+$"}}, {"Ab": 1}, ["$: 'Ab' does not match '^[a-z]+$'"]),
        ({"type": "object", "properties": {"pattern": {"type": "string"}}}, {"pattern": 1},
         ["$.pattern: 1 is not of type 'string'"]),
    ],
)
def test_regex_keywords_keep_their_json_schema_meaning(schema, value, expected):
    assert schema_problems(schema) == []
    assert instance_errors(value, schema) == expected


@pytest.mark.parametrize(
    "schema, where",
    [
        ({"type": "string", "pattern": "^(?=a)b"}, "$.pattern"),
        ({"properties": {"x": {"pattern": "(a)\\1"}}}, "$.properties.x.pattern"),
        ({"patternProperties": {"(?<=x)y": {}}}, "$.patternProperties.(?<=x)y"),
        ({"anyOf": [{"pattern": "(x{1000}){1000}"}]}, "$.anyOf[0].pattern"),
    ],
)
def test_patterns_re2_cannot_run_make_the_schema_unusable(schema, where):
    (problem,) = schema_problems(schema)
    assert problem.startswith(f"{where}: the regex ") and "RE2" in problem


def test_unevaluated_properties_beside_pattern_properties_is_refused():
    schema = {"patternProperties": {"^a": {}}, "unevaluatedProperties": False}
    assert schema_problems(schema) == [
        "$.unevaluatedProperties: `unevaluatedProperties` beside `patternProperties` is not supported by this "
        "relay; use `additionalProperties`."
    ]


def test_patterns_inside_data_keywords_are_not_regexes():
    assert schema_problems({"enum": [{"pattern": "(?=x)"}], "const": {"pattern": "(?=x)"}}) == []
