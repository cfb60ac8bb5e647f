"""Unified chat, non-streaming: envelope, validation, scripts, attachments, conversations."""
from __future__ import annotations

import hashlib
import json

import httpx
import pytest

from tests.onemin_simulator import Simulator
from tests.simulator_tests.sse_helpers import KEY, chat_body, upload

CHAT = "/api/chat-with-ai"


def post(client: httpx.Client, body: dict, **kwargs) -> httpx.Response:
    return client.post(CHAT, json=body, headers=KEY, **kwargs)


def test_it_returns_the_full_ai_record(client: httpx.Client) -> None:
    record = post(client, chat_body("ping")).json()["aiRecord"]
    digest = hashlib.sha256(b"ping").hexdigest()[:8]
    assert record["aiRecordDetail"]["resultObject"] == [
        f"Simulated reply (gpt-4o-mini) to {digest}: 你好，世界 👋🏽 ok"]
    assert record["status"] == "SUCCESS" and record["type"] == "UNIFY_CHAT_WITH_AI"
    assert record["aiRecordDetail"]["promptObject"] == {
        "prompt": "ping", "linkContentList": [], "searchContentList": []}
    assert record["modelDetail"] == {"name": "gpt-4o-mini", "provider": "OPENAI"}
    assert set(record) >= {"uuid", "userId", "teamId", "teamUser", "model", "metadata",
                           "conversationId", "createdAt", "rating", "feedback"}
    meta = record["metadata"]
    assert set(meta) == {"credit", "inputToken", "totalToken", "inputCredit", "outputToken",
                         "promptToken", "finishReason", "outputCredit", "executionTime"}
    assert meta["totalToken"] == meta["inputToken"] + meta["outputToken"]
    assert meta["credit"] == meta["inputCredit"] + meta["outputCredit"]


def test_used_credit_lags_one_call(client: httpx.Client) -> None:
    first = post(client, chat_body("a")).json()["aiRecord"]
    second = post(client, chat_body("b")).json()["aiRecord"]
    assert second["teamUser"]["usedCredit"] == (first["teamUser"]["usedCredit"]
                                                + first["metadata"]["credit"])


@pytest.mark.parametrize("model", ["no-such-model", "claude-retired-1", "gpt-image-1"])
def test_it_refuses_models_that_are_not_active_chat_models(client: httpx.Client,
                                                           model: str) -> None:
    response = post(client, chat_body(model=model))
    assert response.status_code == 400
    assert response.json() == {"errorCode": "UNSUPPORTED_MODEL",
                               "message": f"Model {model} is not supported"}


@pytest.mark.parametrize("prompt_object", [{"messages": [{"role": "user", "content": "x"}]},
                                           {}, {"prompt": 42}])
def test_it_refuses_a_prompt_object_without_a_string_prompt(client: httpx.Client,
                                                            prompt_object: dict) -> None:
    body = {"type": "UNIFY_CHAT_WITH_AI", "model": "gpt-4o", "promptObject": prompt_object}
    response = post(client, body)
    assert response.status_code == 422
    assert response.json()["errorCode"] == "PROMPT_OBJECT_VALIDATION_FAILED"


def test_it_ignores_unknown_fields(client: httpx.Client) -> None:
    body = chat_body("x", temperature=0.2, max_tokens=5, imageList=["images/nope.png"])
    body["tools"] = [{"type": "function"}]
    assert post(client, body).status_code == 200


def test_type_is_lenient_unless_strict(sim: Simulator, client: httpx.Client) -> None:
    body = {**chat_body(), "type": "CHAT"}
    assert post(client, body).status_code == 200
    sim.configure(strict_type=True)
    refused = post(client, body)
    assert refused.status_code == 400 and refused.json()["errorCode"] == "UNKNOWN_ERROR"


@pytest.mark.parametrize("mode,check", [
    ("null", lambda m: m is None),
    ("zeros", lambda m: m["inputToken"] == m["outputToken"] == m["totalToken"] == 0),
    ("no_total", lambda m: "totalToken" not in m and m["inputToken"] > 0),
])
def test_metadata_modes(sim: Simulator, client: httpx.Client, mode: str, check) -> None:
    sim.configure(metadata_mode=mode)
    assert check(post(client, chat_body()).json()["aiRecord"]["metadata"])


@pytest.mark.parametrize("reason", ["complete", "MAX_TOKENS", None])
def test_finish_reason_switch(sim: Simulator, client: httpx.Client, reason) -> None:
    sim.configure(finish_reason=reason)
    meta = post(client, chat_body()).json()["aiRecord"]["metadata"]
    assert meta.get("finishReason", "absent") == (reason or "absent")


def test_scripts_match_by_prompt_and_run_out(sim: Simulator, client: httpx.Client) -> None:
    sim.script({"text": "scripted", "metadata": None}, prompt_contains="magic", times=2)
    texts = [post(client, chat_body(p)).json()["aiRecord"] for p in
             ("plain", "magic 1", "magic 2", "magic 3")]
    results = [r["aiRecordDetail"]["resultObject"][0] for r in texts]
    assert results[0].startswith("Simulated") and results[3].startswith("Simulated")
    assert results[1:3] == ["scripted", "scripted"]
    assert texts[1]["metadata"] is None


@pytest.mark.parametrize("envelope,check", [
    ("flat", lambda r: r.json() == {"errorCode": "X", "message": "boom", "details": "d",
                                    "context": {"service": "s"}}),
    ("docs", lambda r: r.json() == {"success": False,
                                    "error": {"code": "X", "message": "boom", "details": "d"}}),
    ("text", lambda r: r.text == "boom" and r.headers["content-type"].startswith("text/plain")),
])
def test_scripted_errors_in_each_envelope(sim: Simulator, client: httpx.Client, envelope,
                                          check) -> None:
    sim.script({"status": 400, "error_code": "X", "message": "boom", "details": "d",
                "context": {"service": "s"}, "envelope": envelope})
    response = post(client, chat_body())
    assert response.status_code == 400 and check(response)


def test_scripted_cloudflare_page_and_429(sim: Simulator, client: httpx.Client) -> None:
    sim.script({"status": 522, "envelope": "html"})
    page = post(client, chat_body())
    assert page.status_code == 522 and "Error code 522" in page.text
    assert page.headers["content-type"].startswith("text/html")
    sim.script({"status": 429, "retry_after": 7})
    limited = post(client, chat_body())
    assert limited.status_code == 429 and limited.headers["retry-after"] == "7"
    assert limited.json()["error"]["code"] == "RATE_LIMITED"


def test_scripted_invalid_json(sim: Simulator, client: httpx.Client) -> None:
    sim.script({"invalid_json": True})
    response = post(client, chat_body())
    assert response.status_code == 200
    with pytest.raises(json.JSONDecodeError):
        response.json()


def test_delayed_headers_let_a_client_time_out(sim: Simulator, client: httpx.Client) -> None:
    sim.script({"delay_headers_ms": 3000})
    with pytest.raises(httpx.ReadTimeout):
        post(client, chat_body(), timeout=0.2)
    assert sim.wait_for(lambda: sim.requests_to(CHAT)[0]["client_disconnected"])


def test_web_search_can_be_refused(sim: Simulator, client: httpx.Client) -> None:
    body = chat_body(settings={"webSearchSettings": {"webSearch": True, "numOfSite": 1}})
    assert post(client, body).status_code == 200
    sim.configure(web_search_400=True)
    refused = post(client, body)
    assert refused.status_code == 400
    assert refused.json() == {"errorCode": "WEB_SEARCH_FAILED",
                              "message": "Web search is not available for this model"}


def test_attachments_are_checked_and_recorded(sim: Simulator, client: httpx.Client) -> None:
    image = upload(client, "photo.png", b"\x89PNG", "image/png")["fileContent"]
    doc = upload(client, "notes.pdf", b"%PDF-1.4", "application/pdf")["fileContent"]
    body = chat_body(attachments={"images": [image["path"], "https://example.com/x.png"],
                                  "files": [doc["uuid"], doc["path"]]})
    assert post(client, body).status_code == 200
    entry = sim.requests_to(CHAT)[-1]
    assert entry["attachments_seen"] == [image["path"], "https://example.com/x.png"]
    assert entry["files_seen"] == [doc["uuid"]]  # the path in `files` is silently ignored
    unknown = post(client, chat_body(attachments={"images": ["images/never-uploaded.png"]}))
    assert unknown.status_code == 400 and unknown.json()["errorCode"] == "ASSET_NOT_FOUND"


def test_conversations_keep_limited_history(sim: Simulator, client: httpx.Client) -> None:
    created = client.post("/api/conversations", headers=KEY, json={
        "type": "UNIFY_CHAT_WITH_AI", "title": "t", "model": "gpt-4o"}).json()["conversation"]
    assert set(created) == {"uuid", "title", "status", "createdAt"}
    assert created["status"] == "ACTIVE"
    settings = {"historySettings": {"historyMessageLimit": 2}}
    for prompt in ("one", "two", "three"):
        record = post(client, chat_body(prompt, conversationId=created["uuid"],
                                        settings=settings)).json()["aiRecord"]
        assert record["conversationId"] == created["uuid"]
    used = sim.requests_to(CHAT)[-1]["history_used"]
    assert [m["role"] for m in used] == ["user", "assistant"]
    assert used[0]["content"] == "two"
    assert len(sim.conversations[created["uuid"]]["messages"]) == 6


def test_conversation_errors(client: httpx.Client) -> None:
    missing = client.post("/api/conversations", headers=KEY, json={"type": "UNIFY_CHAT_WITH_AI"})
    assert missing.status_code == 400
    assert missing.json()["errorCode"] == "REQUEST_BODY_VALIDATION_FAILED"
    unknown = post(client, chat_body(conversationId="00000000-0000-0000-0000-000000000000"))
    assert unknown.status_code == 400 and unknown.json()["errorCode"] == "CONVERSATION_NOT_FOUND"
    created = client.post("/api/conversations", headers=KEY, json={
        "type": "UNIFY_CHAT_WITH_AI", "title": "t", "model": "gpt-4o"}).json()["conversation"]
    assert client.delete(f"/api/conversations/{created['uuid']}", headers=KEY).status_code == 200
    assert client.delete(f"/api/conversations/{created['uuid']}", headers=KEY).status_code == 404
