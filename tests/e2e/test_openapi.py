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
    response_schema_conformance,
    status_code_conformance,
)

from tests.conftest import TEST_KEY

# Bounded for CI: a few dozen requests per operation and mode, no shrinking marathons.
MAX_EXAMPLES = 30
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


@pytest.fixture(scope="module")
def api_schema(relay):
    return schemathesis.openapi.from_url(f"{relay.url}/v1/openapi.json")


def without_fetches(body):
    """Image URLs would make the relay fetch random hosts: keep the parts, point them at inline data."""
    if isinstance(body, dict):
        return {k: (PNG if k == "url" and isinstance(v, str) else without_fetches(v)) for k, v in body.items()}
    if isinstance(body, list):
        return [without_fetches(item) for item in body]
    return body


CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_fuzzed_requests_to_every_endpoint_get_documented_answers_and_never_a_5xx(api_schema, relay, sim, mode):
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 11
    sent: list[str] = []
    for operation in operations:

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        def exchange(case):
            if isinstance(case.body, (dict, list)):
                case.body = without_fetches(case.body)
            case.call_and_validate(base_url=relay.url, headers={"Authorization": f"Bearer {TEST_KEY}"},
                                   checks=CHECKS, timeout=30)
            sent.append(operation.label)

        exchange()
    assert len(set(sent)) == len(operations) and len(sent) >= 2 * MAX_EXAMPLES, "the fuzzing really ran"
