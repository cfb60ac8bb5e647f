"""1min.ai's error shapes become OpenAI errors with the right status, code and no internals."""
import json
import time
from email.utils import formatdate

import pytest

from api.translators.upstream_errors import upstream_error

BUSY = (
    '{"errorCode":"EXTERNAL_API_RESPONSE_WITH_ERROR","message":"The alibaba service is a bit busy right now",'
    '"context":{"service":"alibaba"},"details":"{\\"response\\":{\\"status\\":400,\\"data\\":{\\"request_id\\":'
    '\\"0645484e\\",\\"code\\":\\"InvalidParameter\\",\\"message\\":\\"The size does not match the allowed size.\\"}},'
    '\\"request\\":{\\"method\\":\\"post\\",\\"url\\":\\"/api/v1/services/aigc/generation\\"}}"}'
)


@pytest.mark.parametrize(
    "status, body, headers, expected_status, expected_type, expected_code",
    [
        (400, '{"errorCode":"UNSUPPORTED_MODEL","message":"Model x is not supported"}', {}, 400, "invalid_request_error", "UNSUPPORTED_MODEL"),
        (422, '{"success":false,"error":{"code":"PROMPT_OBJECT_VALIDATION_FAILED","message":"bad"}}', {}, 400, "invalid_request_error", "PROMPT_OBJECT_VALIDATION_FAILED"),
        (401, '{"success":false,"error":{"code":"UNAUTHORIZED","message":"no"}}', {}, 401, "invalid_request_error", "invalid_api_key"),
        (403, "forbidden", {}, 401, "invalid_request_error", "invalid_api_key"),
        (429, '{"success":false,"error":{"code":"RATE_LIMITED","message":"Too many requests"}}', {"retry-after": "7"}, 429, "requests", "rate_limit_exceeded"),
        (500, "oops", {}, 502, "api_error", "upstream_error"),
        (522, "<html><body>Cloudflare</body></html>", {}, 502, "api_error", "upstream_error"),
    ],
)
def test_it_maps_status_type_and_code(status, body, headers, expected_status, expected_type, expected_code):
    error = upstream_error(status, headers, body.encode())
    assert (error.status, error.type, error.code) == (expected_status, expected_type, expected_code)


def test_it_passes_retry_after_on_429():
    assert upstream_error(429, {"retry-after": "7"}, b"").headers == {"Retry-After": "7"}


def test_it_passes_a_retry_after_date_on_429_as_the_seconds_left():
    asked = formatdate(time.time() + 120, usegmt=True)
    assert 118 <= int(upstream_error(429, {"retry-after": asked}, b"").headers["Retry-After"]) <= 121


def test_it_surfaces_the_real_cause_from_details_without_internal_ids_or_urls():
    error = upstream_error(400, {}, BUSY.encode())
    assert "The size does not match the allowed size." in error.message
    assert "0645484e" not in error.message and "/api/v1/" not in error.message
    assert error.code == "EXTERNAL_API_RESPONSE_WITH_ERROR"


def test_it_lists_field_messages_from_a_json_string_details():
    details = json.dumps([{"field": "quality", "message": "Field 'quality' is required"}])
    body = json.dumps({"errorCode": "MISSING_REQUIRED_FIELDS", "message": "Missing required fields", "details": details})
    error = upstream_error(400, {}, body.encode())
    assert "Field 'quality' is required" in error.message


def test_html_pages_are_not_echoed():
    error = upstream_error(522, {}, b"<html>" + b"x" * 5000 + b"</html>")
    assert "<html>" not in error.message


def _flat(code: str, message: str, details) -> bytes:
    return json.dumps({"errorCode": code, "message": message,
                       "details": details if isinstance(details, str) else json.dumps(details)}).encode()


def test_missing_required_fields_name_the_field_as_the_parameter():
    error = upstream_error(400, {}, _flat("MISSING_REQUIRED_FIELDS", "Missing required fields for m: quality.",
                                          [{"field": "quality", "message": "Field 'quality' is required"}]))
    assert (error.status, error.param, error.code) == (400, "quality", "MISSING_REQUIRED_FIELDS")


def test_a_provider_speaking_openai_names_its_parameter_and_its_canned_busy_line_is_dropped():
    details = {"response": {"status": 400, "data": {"error": {"message": "Invalid value: '512x512'.", "param": "size"},
                                                    "request_id": "req_77"}},
               "request": {"method": "post", "url": "https://api.openai.com/v1/images/generations"}}
    error = upstream_error(400, {}, _flat("EXTERNAL_API_RESPONSE_WITH_ERROR", "The openai service is a bit busy", details))
    assert error.param == "size" and error.status == 400
    assert "Invalid value: '512x512'." in error.message and "busy" not in error.message
    assert "req_77" not in error.message and "api.openai.com" not in error.message


def test_a_provider_that_really_failed_is_a_502():
    details = {"response": {"status": 503, "data": {"message": "overloaded"}}}
    error = upstream_error(400, {}, _flat("EXTERNAL_API_RESPONSE_WITH_ERROR", "The x service is a bit busy", details))
    assert error.status == 502


@pytest.mark.parametrize("text", ["see https://internal.example/a?b=1 now", "POST /v1/generation/sdxl/text-to-image failed",
                                  'request_id: "abc-123" failed'])
def test_internal_urls_paths_and_request_ids_are_scrubbed_from_causes(text):
    error = upstream_error(400, {}, _flat("EXTERNAL_API_RESPONSE_WITH_ERROR", "busy",
                                          {"response": {"status": 400, "data": {"message": text}}}))
    assert "internal.example" not in error.message and "/v1/generation" not in error.message
    assert "abc-123" not in error.message


def _with_echo(body: str, size: int) -> bytes:
    """`body` (a flat error whose details are a JSON string) with 1min.ai's echo of a `size`-character prompt."""
    data = json.loads(body)
    details = json.loads(data["details"])
    details["request"]["prompt"] = "lorem ipsum " * (size // 12)
    return json.dumps({**data, "details": json.dumps(details)}).encode()


def test_an_error_body_over_a_megabyte_maps_like_a_small_one():
    from api import large_json

    big = _with_echo(BUSY, 2 * large_json.LARGE_BYTES)
    assert len(big) > large_json.LARGE_BYTES
    small, large = upstream_error(400, {}, BUSY.encode()), upstream_error(400, {}, big)
    assert (large.status, large.code, large.param, large.message) == (small.status, small.code, small.param, small.message)
    assert "The size does not match the allowed size." in large.message


def test_a_huge_message_is_scrubbed_only_as_far_as_a_client_can_see():
    from core import redaction

    body = json.dumps({"errorCode": "BAD", "message": "see https://internal.example/x " + "y" * 3_000_000}).encode()
    error = upstream_error(400, {}, body)
    assert error.message.startswith("1min.ai rejected the request: see [redacted] yyy")
    assert len(error.message) < redaction.MAX_MESSAGE_CHARS + 100


def test_the_seam_reads_an_error_body_over_a_megabyte_on_a_worker_thread_and_a_small_one_inline(monkeypatch):
    import asyncio
    import threading

    import httpx

    from api import large_json
    from api.upstream import onemin_client

    threads: list[int] = []
    original = onemin_client.upstream_error

    def recorded(*args):
        threads.append(threading.get_ident())
        return original(*args)
    monkeypatch.setattr(onemin_client, "upstream_error", recorded)
    big = _with_echo(BUSY, 2 * large_json.LARGE_BYTES)

    async def mapped(body: bytes):
        error = await onemin_client._error_for(httpx.Response(400, content=body), body)
        return error.message, threads.pop() == threading.get_ident()  # True: on the loop's thread

    small, large = asyncio.run(mapped(BUSY.encode())), asyncio.run(mapped(big))
    assert small[1] is True and large[1] is False
    assert small[0] == large[0] and "The size does not match the allowed size." in large[0]
