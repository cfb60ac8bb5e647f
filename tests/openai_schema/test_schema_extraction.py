"""The extracted OpenAI schemas: the OpenAPI 3.0 to JSON Schema 2020-12 conversion, and the file's
roots, provenance and licence (no Django, no database)."""

from __future__ import annotations

import copy
import json

import pytest

from tests.openai_schema import SCHEMA_FILE, _convert, errors, load_schemas, published_schema, schema_names, validate


def test_additional_properties_false_is_kept():
    ok = {"type": "eq", "key": "a", "value": "b"}
    validate(ok, "ComparisonFilter")
    assert errors({**ok, "extra": 1}, "ComparisonFilter")


def test_recursive_ref_in_compound_filter_is_resolved():
    assert published_schema("CompoundFilter")["properties"]["filters"]["items"]["oneOf"][1] == {
        "$recursiveRef": "#"
    }
    nested = {
        "type": "and",
        "filters": [
            {"type": "eq", "key": "a", "value": "b"},
            {"type": "or", "filters": [{"type": "ne", "key": "c", "value": 1}]},
        ],
    }
    validate(nested, "CompoundFilter")
    nested["filters"][1]["filters"][0]["type"] = "bogus"
    assert errors(nested, "CompoundFilter")


@pytest.mark.parametrize(
    ("schema", "expected"),
    [
        ({"type": "string", "nullable": True}, {"type": ["string", "null"]}),
        (
            {"type": "string", "enum": ["a"], "nullable": True},
            {"type": ["string", "null"], "enum": ["a", None]},
        ),
        ({"enum": ["a"], "nullable": True}, {"enum": ["a", None]}),
        (
            {"$ref": "#/components/schemas/X", "nullable": True},
            {"anyOf": [{"$ref": "#/components/schemas/X"}, {"type": "null"}]},
        ),
        (
            {"anyOf": [{"type": "string"}], "nullable": True},
            {"anyOf": [{"anyOf": [{"type": "string"}]}, {"type": "null"}]},
        ),
        ({"description": "anything", "nullable": True}, {"description": "anything"}),
        ({"type": "string", "nullable": False}, {"type": "string"}),
        (
            {"oneOf": [{"type": "string"}], "discriminator": {"propertyName": "type"},
             "x-oaiMeta": {}, "x-stainless-const": True},
            {"oneOf": [{"type": "string"}]},
        ),
        (
            {"type": "object", "properties": {"nullable": {"type": "boolean"},
                                              "discriminator": {"type": "string"}}},
            {"type": "object", "properties": {"nullable": {"type": "boolean"},
                                              "discriminator": {"type": "string"}}},
        ),
        (
            {"type": "object", "additionalProperties": False, "required": ["a"],
             "properties": {"a": {"type": "integer", "nullable": True}}},
            {"type": "object", "additionalProperties": False, "required": ["a"],
             "properties": {"a": {"type": ["integer", "null"]}}},
        ),
    ],
)
def test_convert(schema, expected):
    original = copy.deepcopy(schema)
    assert _convert(schema, "X") == expected
    assert schema == original  # input not mutated


def test_no_openapi_only_keywords_survive_conversion():
    def walk(node):
        if isinstance(node, dict):
            yield from node.items()
            for value in node.values():
                yield from walk(value)
        elif isinstance(node, list):
            for value in node:
                yield from walk(value)

    converted = load_schemas()["components"]["schemas"]
    for name, schema in converted.items():
        for key, value in walk(schema):
            # property *names* may legitimately be anything; schema keywords may not
            assert not (key == "nullable" and isinstance(value, bool)), name
            assert key not in ("discriminator", "$recursiveRef", "$recursiveAnchor"), name
            assert not key.startswith("x-"), name


# --- extracted file ----------------------------------------------------------

ROOTS = [
    "CreateChatCompletionResponse", "CreateChatCompletionStreamResponse", "ChatCompletionList",
    "ListModelsResponse", "Model", "DeleteModelResponse", "ErrorResponse", "Error", "Response",
    "ResponseStreamEvent", "ResponseCreatedEvent", "ResponseInProgressEvent",
    "ResponseOutputItemAddedEvent", "ResponseContentPartAddedEvent", "ResponseTextDeltaEvent",
    "ResponseTextDoneEvent", "ResponseContentPartDoneEvent", "ResponseOutputItemDoneEvent",
    "ResponseCompletedEvent", "ResponseIncompleteEvent", "ResponseFailedEvent",
    "ResponseErrorEvent", "ResponseItemList", "ImagesResponse", "ImageGenStreamEvent",
    "CreateTranscriptionResponseJson", "CreateTranscriptionResponseVerboseJson",
    "CreateTranscriptionResponseDiarizedJson", "CreateTranscriptionResponseStreamEvent",
    "CreateTranslationResponseJson", "CreateTranslationResponseVerboseJson",
    "CreateSpeechResponseStreamEvent", "CreateEmbeddingResponse",
]


def test_all_roots_available():
    missing = set(ROOTS) - set(schema_names())
    assert not missing


def test_extracted_file_has_provenance_and_licence():
    with SCHEMA_FILE.open(encoding="utf-8") as fh:
        doc = json.load(fh)
    assert doc["source"]["title"] == "OpenAI API"
    assert "MIT" in doc["note"] and "LICENSE" in doc["note"]
    assert set(doc["roots"]) == set(ROOTS)
    licence = (SCHEMA_FILE.parent / "LICENSE").read_text(encoding="utf-8")
    assert "MIT License" in licence and "OpenAI" in licence


def test_unknown_schema_name():
    with pytest.raises(KeyError):
        validate({}, "NoSuchSchema")
