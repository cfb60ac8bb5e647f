"""Large JSON documents are decoded and encoded in pieces with exactly orjson's results."""
import asyncio
import json
import random

import orjson
import pytest

from api import large_json


@pytest.fixture(autouse=True)
def small_pieces(monkeypatch):
    """Pieces of 16 bytes and a 'large' document from 64 bytes, so small documents exercise every cut."""
    monkeypatch.setattr(large_json, "LARGE_BYTES", 64)
    monkeypatch.setattr(large_json, "PIECE_BYTES", 16)


TRICKY = [
    "plain ascii text " * 20,
    "naïve 日本語 emoji 👋🏽 mixed " * 12,
    '{"nested": "json \\" with escapes"} ' * 10,
    "\\" * 101 + "x" + "\\\\" * 40,
    "\n\t\r\b\f\u0001\u001f" * 30,
    "👋🏽" * 40 + "é" * 50,
    "日本語" * 60,
    '"' * 80,
]


@pytest.mark.parametrize("text", TRICKY)
def test_long_strings_decode_exactly_as_orjson(text):
    document = {"model": "m", "messages": [{"role": "user", "content": text}, {"content": text[:3]}],
                "n": [1, 2.5, None, True], "k" * 100: text}
    raw = orjson.dumps(document)
    assert large_json.loads(raw) == orjson.loads(raw)
    spaced = json.dumps(document, ensure_ascii=False, indent=2, separators=(" ,", "  :\n ")).encode()
    assert large_json.loads(spaced) == orjson.loads(spaced)


@pytest.mark.parametrize("text", TRICKY)
def test_long_strings_encode_byte_for_byte(text):
    document = {"type": "CHAT", "promptObject": {"prompt": text, "list": [text, 1, None]}, "t": (text,)}
    assert large_json.dumps(document) == orjson.dumps(document)


def test_random_documents_round_trip():
    rng = random.Random(7)
    alphabet = ['a', ' ', '"', '\\', '\n', 'é', '日', '👋', '\u0000', '/', 'u']
    for _ in range(300):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 300)))
        raw = orjson.dumps({"a": text, "b": [text, {"c": text}]})
        assert large_json.loads(raw) == orjson.loads(raw)
        assert large_json.dumps(orjson.loads(raw)) == raw


def test_escaped_surrogate_pairs_are_never_split():
    raw = b'{"a": "' + b"\\ud83d\\ude00x" * 40 + b'"}'
    assert large_json.loads(raw) == orjson.loads(raw) == {"a": "\U0001f600x" * 40}


def test_a_whole_document_that_is_one_long_string():
    raw = orjson.dumps("x\\y" * 100)
    assert large_json.loads(raw) == orjson.loads(raw)


@pytest.mark.parametrize("raw", [
    b'{"a": "' + b"x" * 100 + b'"',  # unterminated object
    b'{"a": "' + b"x" * 100,  # unterminated string
    b'{"a": "' + b"x" * 50 + b"\x01" + b"x" * 50 + b'"}',  # a control character in a long string
    b'{"a": "' + b"x" * 50 + b"\\q" + b"x" * 50 + b'"}',  # a bad escape
    b'{"a": "' + b"x" * 50 + b"\xff" + b"x" * 50 + b'"}',  # not UTF-8
    b'{"a": "' + b"x" * 100 + b'" "b"}',
])
def test_what_orjson_refuses_is_refused(raw):
    with pytest.raises(orjson.JSONDecodeError):
        orjson.loads(raw)
    with pytest.raises(orjson.JSONDecodeError):
        large_json.loads(raw)


def test_the_async_helpers_agree_with_orjson_for_small_and_large_documents():
    for document in ({"a": "short"}, {"a": "long text " * 50}):
        raw = orjson.dumps(document)
        assert asyncio.run(large_json.loads_async(raw)) == document
        assert asyncio.run(large_json.dumps_async(document)) == raw


def test_only_long_string_values_are_cut_out_of_the_skeleton():
    raw = orjson.dumps({"k" * 100: "short", "long": "v" * 100, "list": ["w" * 100]})
    spans = large_json._long_strings(raw)
    assert [raw[a:b] for a, b in spans] == [b'"' + b"v" * 100 + b'"', b'"' + b"w" * 100 + b'"']


def test_a_document_of_many_short_strings_is_decoded_whole(monkeypatch):
    monkeypatch.setattr(large_json, "MAX_STRINGS", 10)
    raw = orjson.dumps({"long": "v" * 100, "many": ["s"] * 20})
    assert large_json._long_strings(raw) == []
    assert large_json.loads(raw) == orjson.loads(raw)
