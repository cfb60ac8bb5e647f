"""The relay's own OpenAPI document and its docs pages, and property-based fuzzing of every
documented endpoint with schemathesis against a running relay: no 5xx, every answer as documented."""
from __future__ import annotations

import base64
import re

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    positive_data_acceptance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.conftest import TEST_KEY

# Bounded for CI: a few dozen requests per operation and mode, no shrinking marathons.
MAX_EXAMPLES = int(__import__("os").environ.get("FUZZ_EXAMPLES", "30"))
PNG = "data:image/png;base64," + base64.b64encode(
    bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010802000000907753de0000000c49444154789c6360f8cf000001010100"
                  "18dd8db00000000049454e44ae426082")).decode()


def test_the_document_describes_every_endpoint(relay):
    document = httpx.get(f"{relay.url}/v1/openapi.json").json()
    assert document["openapi"].startswith("3.")
    operations = {(m.upper(), p) for p, item in document["paths"].items() for m in item}
    assert {("POST", "/v1/chat/completions"), ("GET", "/v1/models"), ("GET", "/v1/models/{model_id}"),
            ("POST", "/v1/responses"), ("GET", "/v1/responses/{response_id}"), ("DELETE", "/v1/responses/{response_id}"),
            ("GET", "/v1/responses/{response_id}/input_items"), ("POST", "/v1/images/generations"),
            ("POST", "/v1/audio/transcriptions"), ("POST", "/v1/audio/translations"),
            ("POST", "/v1/audio/speech")} <= operations
    for path, item in document["paths"].items():
        for method, operation in item.items():
            assert operation.get("summary") and operation.get("description"), (method, path)
            assert "200" in operation["responses"] and "401" in operation["responses"], (method, path)


def test_the_docs_pages_and_their_assets_are_served_locally(relay):
    for page in ("/v1/docs", "/v1/redoc"):
        html = httpx.get(f"{relay.url}{page}").text
        assets = re.findall(r'(?:src|href)="([^"]+\.(?:js|css|png))"', html)
        assert assets, page
        for asset in assets:
            assert asset.startswith("/static/drf_spectacular_sidecar/"), f"{asset}: no CDN"
            response = httpx.get(f"{relay.url}{asset}")
            assert response.status_code == 200 and len(response.content) > 100, asset
        assert "/v1/openapi.json" in html


# Valid by the document, refused by this deployment's settings (not by the API): a model id the
# relay does not know (404), a token need over the client's limits (413, 429), a missing key (401).
POSITIVE_STATUSES = ["2xx", "401", "403", "404", "413", "429"]
# A refusal is a refusal: 413 (too large for the client's limits) included.
NEGATIVE_STATUSES = ["400", "401", "403", "404", "405", "406", "409", "413", "415", "422", "428", "429"]


@pytest.fixture(scope="module")
def api_schema(relay):
    from schemathesis.config import SchemathesisConfig

    config = SchemathesisConfig.from_dict(
        {"checks": {"positive_data_acceptance": {"expected-statuses": POSITIVE_STATUSES},
                    "negative_data_rejection": {"expected-statuses": NEGATIVE_STATUSES}}})
    return schemathesis.openapi.from_url(f"{relay.url}/v1/openapi.json", config=config)


def without_fetches(body):
    """Image URLs would make the relay fetch random hosts: keep the parts, point them at inline data."""
    if isinstance(body, dict):
        if body.get("type") == "base64" and "data" in body:  # an Anthropic image source: real bytes
            return {**body, "media_type": "image/png", "data": PNG.split(",", 1)[1]}
        return {k: (PNG if k in ("url", "image_url") and isinstance(v, str) else without_fetches(v))
                for k, v in body.items()}
    if isinstance(body, list):
        return [without_fetches(item) for item in body]
    return body


# Positive: what the document accepts, the relay accepts (a 404 for a model id it does not know is
# allowed); negative: what the document refuses, the relay refuses with a 4xx.
# Options whose accepted values depend on the model chosen (a 400 naming the model otherwise), which
# one document cannot say per model: left out of the positive cases, still fuzzed in the negative ones.
MODEL_DEPENDENT = {"/v1/images/generations": ("size", "quality", "style", "background", "output_format",
                                              "output_compression")}
# Rules that tie one field to another, which the document cannot state: in positive cases the
# dependent field is dropped (tool_choice needs tools), or the case made consistent (a vision model
# for image inputs; Anthropic blocks only in the role that may send them). Negative cases keep all.
VISION_MODEL = "gpt-4o"
ANTHROPIC_BLOCKS = {"user": {"text", "image", "tool_result"}, "assistant": {"text", "tool_use"}}


def _at_most_images(value, budget: int) -> int:
    """Drop image parts past `budget` anywhere in the body; the budget left."""
    if isinstance(value, list):
        for item in list(value):
            if isinstance(item, dict) and item.get("type") in ("image_url", "input_image", "image"):
                if budget <= 0:
                    value.remove(item)
                    continue
                budget -= 1
            else:
                budget = _at_most_images(item, budget)
    elif isinstance(value, dict):
        for item in value.values():
            budget = _at_most_images(item, budget)
    return budget


def consistent(path: str, body: dict) -> None:
    # A tool's parameters must be a valid JSON Schema, which OpenAPI cannot express (the relay's
    # checks of them have their own tests): any valid one will do here.
    for tool in body.get("tools") or body.get("functions") or []:
        if isinstance(tool, dict):
            for holder in (tool, tool.get("function")):
                if isinstance(holder, dict):
                    for name in ("parameters", "input_schema"):
                        if name in holder:
                            holder[name] = {"type": "object"}
    if path == "/v1/chat/completions":
        if body.get("tools") and body.get("functions"):  # one or the other
            body.pop("functions")
            body.pop("function_call", None)
        for field in ("tools", "functions"):  # tool names are unique
            if isinstance(body.get(field), list):
                seen = set()
                for index, tool in enumerate(body[field]):
                    named = tool.get("function", tool) if isinstance(tool, dict) else None
                    if isinstance(named, dict) and isinstance(named.get("name"), str):
                        while named["name"] in seen:
                            named["name"] = f"{named['name'][:60]}_{index}"
                        seen.add(named["name"])
        if not body.get("tools"):
            body.pop("tool_choice", None)
            body.pop("parallel_tool_calls", None)
        if not body.get("functions"):
            body.pop("function_call", None)
        if isinstance(body.get("function_call"), dict):  # a named function must be a declared one
            body["function_call"] = "auto"
        if isinstance(body.get("tool_choice"), dict):  # a named tool must be a declared one
            body["tool_choice"] = "auto"
    if path in ("/v1/chat/completions", "/v1/responses", "/v1/messages", "/v1/messages/count_tokens"):
        body["model"] = VISION_MODEL
        _at_most_images(body, 16)  # the relay's per-request cap (MAX_IMAGES_PER_REQUEST)
    # A model that must call a tool may not (the simulator answers text): a 502, tested elsewhere.
    if body.get("tool_choice") == "required" or (
            isinstance(body.get("tool_choice"), dict) and body["tool_choice"].get("type") == "any"):
        body["tool_choice"] = "auto" if path != "/v1/messages" else {"type": "auto"}
    if path.startswith("/v1/messages"):
        if not body.get("tools"):
            body.pop("tool_choice", None)
        if isinstance(body.get("tool_choice"), dict) and body["tool_choice"].get("type") == "tool":
            body["tool_choice"] = {"type": "auto"}  # a named tool must be a declared one
        for message in body.get("messages") or []:
            if isinstance(message, dict) and isinstance(message.get("content"), list):
                allowed = ANTHROPIC_BLOCKS.get(message.get("role"), set())
                message["content"] = [b for b in message["content"]
                                      if isinstance(b, dict) and b.get("type") in allowed] or "hi"


CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance,
          positive_data_acceptance, negative_data_rejection]


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_fuzzed_requests_to_every_endpoint_get_documented_answers_and_never_a_5xx(api_schema, relay, sim, mode):
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 11
    sent: list[str] = []
    failures: dict[str, str] = {}
    for operation in operations:

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=not __import__("os").environ.get("FUZZ_RANDOM"), database=None,
                  suppress_health_check=list(HealthCheck))
        def exchange(case):
            if isinstance(case.body, (dict, list)):
                case.body = without_fetches(case.body)
            # The case's own mode: schemathesis' coverage phase also makes valid cases in a negative run.
            if case.meta.generation.mode.is_positive and isinstance(case.body, dict):
                for name in MODEL_DEPENDENT.get(operation.path, ()):
                    case.body.pop(name, None)
                consistent(operation.path, case.body)
            # A case whose mutation is the missing or broken bearer token keeps it (the relay must
            # answer 401); every other case carries a real key, so its body is what gets judged.
            mutated = {m.parameter for m in getattr(case.meta.phase.data, "mutations", None) or []}
            auth = {} if "Authorization" in mutated else {"Authorization": f"Bearer {TEST_KEY}"}
            case.call_and_validate(base_url=relay.url, headers=auth, checks=CHECKS, timeout=30)
            sent.append(operation.label)

        try:
            exchange()
        except (Exception, BaseExceptionGroup) as error:  # noqa: BLE001 - every operation fuzzed, all failures shown
            failures[operation.label] = str(error)[:3000]
    # A 5xx leaves its traceback in the relay's log: shown with the failure, it names the cause.
    tracebacks = ["Traceback" + t[:3000] for t in relay.logs().split("Traceback")[1:]][:3] if failures else []
    assert not failures, "\n\n".join([f"{label}:\n{text}" for label, text in failures.items()] + tracebacks)
    assert len(set(sent)) == len(operations) and len(sent) >= 2 * MAX_EXAMPLES, "the fuzzing really ran"


def _request_schema(document: dict, method: str, path: str) -> dict:
    return document["paths"][path][method]["requestBody"]["content"]["application/json"]["schema"]


def _parameter(document: dict, method: str, path: str, name: str) -> dict:
    return next(p for p in document["paths"][path][method]["parameters"] if p["name"] == name)["schema"]


def test_the_document_refuses_what_the_relay_refuses(relay):
    from jsonschema import Draft4Validator

    document = httpx.get(f"{relay.url}/v1/openapi.json").json()
    refused = [
        (_request_schema(document, "post", "/v1/chat/completions"),
         {"model": "", "messages": [{"role": "user", "content": "hi"}]}),
        (_request_schema(document, "post", "/v1/images/generations"), {"prompt": ""}),
        (_request_schema(document, "post", "/v1/responses"), {"model": "gpt-4o-mini", "input": ""}),
        (_parameter(document, "get", "/v1/responses/{response_id}/input_items", "limit"), 0),
        (_parameter(document, "get", "/v1/responses/{response_id}", "stream"), "TRUE"),
    ]
    for schema, value in refused:
        assert not Draft4Validator(schema).is_valid(value), (schema, value)
    bodies = {"/v1/chat/completions": {"model": "", "messages": [{"role": "user", "content": "hi"}]},
              "/v1/images/generations": {"prompt": ""}}
    for path, body in bodies.items():
        assert httpx.post(f"{relay.url}{path}", json=body, headers={"Authorization": f"Bearer {TEST_KEY}"},
                          timeout=30).status_code == 400
    for query in ("limit=0", "stream=TRUE"):
        path = "/v1/responses/resp_missing/input_items" if query.startswith("limit") else "/v1/responses/resp_missing"
        assert httpx.get(f"{relay.url}{path}?{query}", headers={"Authorization": f"Bearer {TEST_KEY}"},
                         timeout=30).status_code == 400
