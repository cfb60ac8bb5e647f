"""The API is served without the admin's middleware; the admin keeps all of it."""
import httpx

from tests.conftest import TEST_KEY
from tests.openai_schema import validate

AUTH = {"Authorization": f"Bearer {TEST_KEY}"}


def test_api_responses_carry_no_admin_headers_and_a_content_length(relay, sim):
    response = httpx.get(f"{relay.url}/v1/models", headers=AUTH)
    assert response.status_code == 200
    assert "x-frame-options" not in response.headers and "set-cookie" not in response.headers
    assert int(response.headers["content-length"]) == len(response.content)


def test_the_admin_keeps_its_middleware(relay):
    with httpx.Client(base_url=relay.url) as browser:
        page = browser.get("/admin/login/")
        assert page.status_code == 200 and page.headers["x-frame-options"] == "DENY"
        assert "csrftoken" in browser.cookies
        forged = browser.post("/admin/login/", data={"username": "a", "password": "b"})
        assert forged.status_code == 403  # no CSRF token: refused


def test_a_host_the_relay_does_not_serve_is_refused_in_the_openai_envelope(relay, sim):
    response = httpx.get(f"{relay.url}/v1/models", headers={**AUTH, "Host": "evil.example"})
    assert response.status_code == 400
    validate(response.json(), "ErrorResponse")
    assert response.json()["error"]["code"] == "disallowed_host"


def test_a_malformed_multipart_body_is_answered_by_the_relay_not_the_server(relay, sim):
    # Twisted used to parse form bodies itself and answer a broken one with a bare 400.
    response = httpx.post(
        f"{relay.url}/v1/chat/completions", content=b"garbage",
        headers={**AUTH, "Content-Type": "multipart/form-data; boundary=xyz"},
    )
    assert response.status_code == 415
    validate(response.json(), "ErrorResponse")


def test_with_the_fast_paths_off_the_stock_handlers_answer_the_same(relay_factory, sim):
    """FRAMEWORK_FAST_PATHS=false is the baseline bench/bypasses.py measures: it must still work."""
    stock = relay_factory(FRAMEWORK_FAST_PATHS="false")
    body = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}
    answer = httpx.post(f"{stock.url}/v1/chat/completions", json=body, headers=AUTH, timeout=30)
    assert answer.status_code == 200, answer.text
    validate(answer.json(), "CreateChatCompletionResponse")
    streamed = httpx.post(f"{stock.url}/v1/chat/completions", json={**body, "stream": True}, headers=AUTH, timeout=30)
    assert streamed.status_code == 200 and streamed.text.rstrip().endswith("data: [DONE]")
    missing = httpx.post(f"{stock.url}/v1/chat/completions", json={**body, "model": "no-such-model"}, headers=AUTH)
    assert missing.status_code == 404
    validate(missing.json(), "ErrorResponse")
    # The stock path runs the admin's middleware on the API too: that is what the fast path saves.
    assert "x-frame-options" in answer.headers
