"""Table-driven tests of structured outputs: cleaning replies into JSON and checking them."""
import json

import pytest

from api import structured_output as so

OBJECT = so.TextFormat(so.JSON_OBJECT)
PERSON = so.TextFormat(so.JSON_SCHEMA, "person", {
    "type": "object",
    "properties": {"name": {"type": "string"}, "age": {"type": "integer", "minimum": 0}},
    "required": ["name", "age"],
    "additionalProperties": False,
})


@pytest.mark.parametrize(
    "reply, expected",
    [
        ('{"a": 1}', '{"a": 1}'),
        ('  \n{"a": 1}\n ', '{"a": 1}'),
        ('\ufeff{"a": 1}', '{"a": 1}'),
        ('```json\n{"a": 1}\n```', '{"a": 1}'),
        ('```JSON\n{"a": 1}\n```', '{"a": 1}'),
        ('```\n{"a": 1}\n```', '{"a": 1}'),
        ('```json\n{"a": 1}', '{"a": 1}'),  # an unterminated fence
        ('Here you go:\n```json\n{"a": 1}\n```\nEnjoy!', '{"a": 1}'),
        ('Sure! {"a": 1}', '{"a": 1}'),
        ('Sure! {"a": {"b": [1, 2]}} Hope that helps {"x": 2}', '{"a": {"b": [1, 2]}}'),
        ('The set {x} is empty, so: {"a": 1}', '{"a": 1}'),
        ('{"text": "has ``` inside"}', '{"text": "has ``` inside"}'),
    ],
)
def test_json_objects_are_found_and_cleaned(reply, expected):
    checked = so.check(reply, OBJECT)
    assert checked.ok and checked.json_text == expected
    json.loads(checked.json_text)


@pytest.mark.parametrize(
    "reply, error",
    [
        ("no json here", "The reply contains no valid JSON value."),
        ("", "The reply contains no valid JSON value."),
        ('{"a": NaN}', "The reply contains no valid JSON value."),
        ('{"a": Infinity}', "The reply contains no valid JSON value."),
        ("{'a': 1}", "The reply contains no valid JSON value."),
        ("[1, 2]", "$: the reply is a JSON array, not an object."),
        ('"just a string"', "$: the reply is a JSON string, not an object."),
    ],
)
def test_replies_without_a_json_object_are_reported(reply, error):
    checked = so.check(reply, OBJECT)
    assert not checked.ok and checked.errors == [error]


@pytest.mark.parametrize(
    "reply, errors",
    [
        ('{"name": "Ann", "age": 3}', []),
        ('{"name": "Ann"}', ["$: 'age' is a required property"]),
        ('{"name": "Ann", "age": "3"}', ["$.age: '3' is not of type 'integer'"]),
        ('{"name": "Ann", "age": -1}', ["$.age: -1 is less than the minimum of 0"]),
        ('{"name": "Ann", "age": 3, "x": 1}', ["$: Additional properties are not allowed ('x' was unexpected)"]),
    ],
)
def test_json_schema_replies_are_validated_with_paths_in_the_errors(reply, errors):
    checked = so.check(reply, PERSON)
    assert checked.errors == errors and checked.ok == (not errors)


def test_the_first_json_value_that_satisfies_the_schema_wins():
    reply = 'For example {"name": "X"} would be wrong; the answer is {"name": "Ann", "age": 3}'
    assert so.check(reply, PERSON).json_text == '{"name": "Ann", "age": 3}'


def test_the_prompt_names_the_schema_and_forbids_fences():
    text = so.prompt_instructions(PERSON)
    assert 'JSON Schema named "person"' in text and '"required":["name","age"]' in text
    assert "no Markdown code fences" in so.prompt_instructions(OBJECT)
    assert so.prompt_instructions(so.TextFormat()) is None


def test_the_repair_request_lists_the_problems():
    text = so.repair_instructions(PERSON, ["$: 'age' is a required property"])
    assert "- $: 'age' is a required property" in text and "corrected JSON" in text


@pytest.mark.parametrize(
    "schema, bad",
    [({"type": "object"}, False), ({"type": "nope"}, True), ({"properties": {"a": {"minimum": "x"}}}, True)],
)
def test_schemas_are_checked_before_use(schema, bad):
    assert bool(so.schema_problems(schema)) == bad


def test_the_echoed_format_has_the_fields_openai_echoes():
    assert PERSON.to_openai() == {"type": "json_schema", "name": "person", "schema": PERSON.schema, "strict": False}
    assert OBJECT.to_openai() == {"type": "json_object"}
