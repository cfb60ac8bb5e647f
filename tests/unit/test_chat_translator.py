"""Table-driven tests of the pure chat translation: prompts, bodies, records, finish reasons."""
import pytest

from api.translators import chat as tr


@pytest.mark.parametrize(
    "messages, expected",
    [
        ([{"role": "user", "content": "hi"}], "hi"),
        ([{"role": "user", "content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]}], "a\nb"),
        (
            [{"role": "system", "content": "be brief"}, {"role": "user", "content": "hi"}],
            "System: be brief\n\nHuman: hi\n\nAssistant:",
        ),
        (
            [{"role": "developer", "content": "rules"}, {"role": "user", "name": "ann", "content": "hi"}],
            "Developer: rules\n\nHuman (ann): hi\n\nAssistant:",
        ),
        (
            [
                {"role": "user", "content": "weather?"},
                {"role": "assistant", "content": None, "tool_calls": [
                    {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Oslo\"}"}}
                ]},
                {"role": "tool", "tool_call_id": "call_1", "content": "sunny"},
            ],
            "Human: weather?\n\nAssistant: [called tool `get_weather` with arguments {\"city\":\"Oslo\"} (call id call_1)]"
            "\n\nTool (result of call call_1): sunny\n\nAssistant:",
        ),
        (
            [{"role": "user", "content": "x"}, {"role": "assistant", "content": [{"type": "refusal", "refusal": "no"}]},
             {"role": "function", "name": "f", "content": "out"}],
            "Human: x\n\nAssistant: no\n\nFunction (f): out\n\nAssistant:",
        ),
        (
            [{"role": "user", "content": [{"type": "text", "text": "what is"}, {"type": "image_url", "image_url": {"url": "data:x"}}]}],
            "what is\n[image 1]",
        ),
        ([{"role": "user", "content": None}, {"role": "user", "content": "b"}], "Human: \n\nHuman: b\n\nAssistant:"),
    ],
)
def test_it_flattens_messages_without_dropping_anything(messages, expected):
    assert tr.build_prompt(messages) == expected


def test_it_collects_images_from_every_message_in_order():
    messages = [
        {"role": "user", "content": [{"type": "image_url", "image_url": {"url": "u1"}}]},
        {"role": "assistant", "content": "ok"},
        {"role": "user", "content": [{"type": "image_url", "image_url": "u2"}, {"type": "text", "text": "t"}]},
    ]
    assert tr.image_urls(messages) == ["u1", "u2"]


def test_it_builds_the_unified_body_with_web_search_and_images():
    body = tr.build_body("gpt-4o", "p", images=["images/a.png"], web_search=tr.web_search_settings(True, 1, 500))
    assert body == {
        "type": "UNIFY_CHAT_WITH_AI",
        "model": "gpt-4o",
        "promptObject": {
            "prompt": "p",
            "settings": {"webSearchSettings": {"webSearch": True, "numOfSite": 1, "maxWord": 500}},
            "attachments": {"images": ["images/a.png"]},
        },
    }
    assert "settings" not in tr.build_body("m", "p")["promptObject"]


@pytest.mark.parametrize(
    "raw, expected",
    [("stop", "stop"), ("complete", "stop"), ("MAX_TOKENS", "length"), ("length", "length"),
     ("SAFETY", "content_filter"), (None, "stop"), ("something-new", "stop"), ("end_turn", "stop")],
)
def test_it_maps_provider_finish_reasons_into_openais_set(raw, expected):
    assert tr.finish_reason(raw) == expected


@pytest.mark.parametrize(
    "metadata, expected",
    [
        ({"inputToken": 98, "outputToken": 3}, (98, 3)),
        ({"inputToken": 0, "outputToken": 0, "totalToken": 0}, None),
        ({}, None),
        ({"inputToken": "12", "outputToken": "x"}, None),
    ],
)
def test_it_reads_upstream_usage_only_when_it_is_real(metadata, expected):
    assert tr.upstream_usage(metadata) == expected


@pytest.mark.parametrize(
    "record, expected",
    [
        ({"aiRecordDetail": {"resultObject": ["Pong"]}}, "Pong"),
        ({"aiRecordDetail": {"resultObject": ["a", "b"]}}, "ab"),
        ({"aiRecordDetail": {"resultObject": "plain"}}, "plain"),
        ({"resultObject": {"message": "legacy"}}, "legacy"),
        ({"aiRecordDetail": {"resultObject": []}}, None),
        ({}, None),
    ],
)
def test_it_finds_the_answer_in_every_record_shape(record, expected):
    assert tr.text_of(record) == expected


@pytest.mark.parametrize(
    "payload, expected",
    [({"error": "boom"}, "boom"), ({"error": {"message": "m"}}, "m"), ({"message": "x"}, "x"), ("raw", "raw")],
)
def test_it_reads_stream_error_payloads(payload, expected):
    assert tr.stream_error_message(payload) == expected
