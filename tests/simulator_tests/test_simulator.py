"""Core simulator behaviour: keys, recording, models, publish/redirect, limits, control API."""
from __future__ import annotations

import base64
import json
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.onemin_simulator import Simulator
from tests.simulator_tests.sse_helpers import KEY, chat_body

REPO = Path(__file__).resolve().parents[2]


def test_it_refuses_a_missing_key_with_the_flat_401(client: httpx.Client) -> None:
    response = client.post("/api/chat-with-ai", json=chat_body())
    assert response.status_code == 401
    assert response.json() == {"errorCode": "UNAUTHORIZED",
                               "message": "Invalid or missing API key"}


def test_it_never_takes_the_key_from_authorization(client: httpx.Client) -> None:
    response = client.post("/api/chat-with-ai", json=chat_body(),
                           headers={"Authorization": "Bearer good-key"})
    assert response.status_code == 401


def test_it_reads_the_key_header_case_insensitively(client: httpx.Client) -> None:
    response = client.post("/api/chat-with-ai", json=chat_body(), headers={"api-key": "abc"})
    assert response.status_code == 200


def test_it_refuses_bad_keys_in_the_docs_envelope_when_asked(sim: Simulator,
                                                             client: httpx.Client) -> None:
    sim.configure(error_envelope="docs")
    response = client.post("/api/chat-with-ai", json=chat_body(), headers={"API-KEY": "bad-1"})
    assert response.status_code == 401
    assert response.json() == {"success": False, "error": {
        "code": "UNAUTHORIZED", "message": "Invalid or missing API key"}}


def test_it_accepts_only_listed_keys_when_any_key_is_off(sim: Simulator,
                                                         client: httpx.Client) -> None:
    sim.configure(accept_any_key=False)
    sim.valid_keys.add("listed")
    assert client.post("/api/chat-with-ai", json=chat_body(),
                       headers={"API-KEY": "other"}).status_code == 401
    assert client.post("/api/chat-with-ai", json=chat_body(),
                       headers={"API-KEY": "listed"}).status_code == 200


def test_it_records_what_the_client_sent(sim: Simulator, client: httpx.Client) -> None:
    client.post("/api/chat-with-ai?isStreaming=false", json=chat_body("hello"),
                headers={**KEY, "X-Trace": "t1"})
    [entry] = sim.requests_to("/api/chat-with-ai")
    assert entry["method"] == "POST"
    assert entry["query"] == {"isStreaming": "false"}
    assert entry["headers"]["api-key"] == "test-key"
    assert entry["headers"]["x-trace"] == "t1"
    assert "authorization" not in entry["headers"]
    assert entry["json"]["promptObject"]["prompt"] == "hello"
    assert json.loads(entry["body"]) == entry["json"]
    assert entry["form"] is None
    assert entry["response_status"] == 200


def test_it_keeps_no_request_log_when_told_not_to_record(sim: Simulator, client: httpx.Client) -> None:
    sim.configure(record_requests=False)
    response = client.post("/api/chat-with-ai?isStreaming=false", json=chat_body("hello"), headers=KEY)
    assert response.status_code == 200
    assert sim.requests == []


def test_it_keeps_connections_alive_between_requests(sim: Simulator,
                                                     client: httpx.Client) -> None:
    for _ in range(3):
        assert client.get("/models", params={"feature": "TEXT_TO_SPEECH"}).status_code == 200
    peers = {r["peer"] for r in sim.requests_to("/models")}
    assert len(peers) == 1


def test_it_reads_chunked_request_bodies(sim: Simulator, client: httpx.Client) -> None:
    payload = json.dumps(chat_body("chunked body")).encode()
    parts = (payload[i:i + 7] for i in range(0, len(payload), 7))
    response = client.post("/api/chat-with-ai", content=parts,
                           headers={**KEY, "Content-Type": "application/json"})
    assert response.status_code == 200
    entry = sim.requests_to("/api/chat-with-ai")[0]
    assert "chunked" in entry["headers"]["transfer-encoding"]
    assert entry["json"]["promptObject"]["prompt"] == "chunked body"


def test_it_lists_models_by_feature_including_disabled(client: httpx.Client) -> None:
    body = client.get("/models", params={"feature": "IMAGE_GENERATOR"}).json()
    assert body["total"] == len(body["models"]) == 7
    flux = next(m for m in body["models"] if m["modelId"] == "black-forest-labs/flux-schnell")
    assert flux["status"] == "DISABLED"
    chat = client.get("/models", params={"feature": "UNIFY_CHAT_WITH_AI"}).json()["models"]
    mini = next(m for m in chat if m["modelId"] == "gpt-4o-mini")
    assert set(mini) >= {"uuid", "modelId", "name", "group", "provider", "status", "cutoffDate",
                         "logoUrl", "features", "creditMetadata", "modality", "information",
                         "createdAt", "createdBy", "updatedAt", "updatedBy", "numberOfStars",
                         "creditEstimation"}
    assert set(mini["creditMetadata"]) == {"INPUT", "OUTPUT", "CONTEXT", "MAX_OUTPUT_TOKEN"}
    assert "image" in mini["modality"]["INPUT"] and "CHAT_WITH_IMAGE" in mini["features"]
    assert any("deprecationDate" in m for m in chat)


def test_models_needs_no_key_and_empty_feature_lists_nothing(client: httpx.Client) -> None:
    assert client.get("/models").json() == {"models": [], "total": 0}


def test_models_can_fail_and_be_edited(sim: Simulator, client: httpx.Client) -> None:
    sim.configure(models_fail=True)
    assert client.get("/models", params={"feature": "UNIFY_CHAT_WITH_AI"}).status_code == 503
    sim.configure(models_fail=False)
    sim.set_model_status("gpt-4o", "DISABLED")
    sim.catalogue.add("brand-new", ["UNIFY_CHAT_WITH_AI"], provider="acme")
    models = {m["modelId"]: m for m in
              client.get("/models", params={"feature": "UNIFY_CHAT_WITH_AI"}).json()["models"]}
    assert models["gpt-4o"]["status"] == "DISABLED" and "brand-new" in models
    assert client.post("/api/chat-with-ai", json=chat_body(model="gpt-4o"),
                       headers=KEY).status_code == 400


def test_it_serves_published_bytes_and_redirects(sim: Simulator, client: httpx.Client) -> None:
    url = sim.publish("img/cat.png", b"\x89PNG fake", "image/png")
    assert url == f"{sim.url}/public/img/cat.png"
    fetched = httpx.get(url)
    assert fetched.content == b"\x89PNG fake" and fetched.headers["content-type"] == "image/png"
    hop = client.get("/redirect", params={"to": url, "status": "307"})
    assert hop.status_code == 307 and hop.headers["location"] == url
    assert httpx.get(sim.redirect_url(url), follow_redirects=True).content == b"\x89PNG fake"


def test_unknown_routes_answer_404_json(client: httpx.Client) -> None:
    response = client.get("/api/nothing-here")
    assert response.status_code == 404
    assert response.json()["message"] == "Cannot GET /api/nothing-here"


def test_it_rate_limits_per_key_with_retry_after(sim: Simulator, client: httpx.Client) -> None:
    sim.configure(rate_limit_per_minute=2)
    codes = [client.post("/api/chat-with-ai", json=chat_body(), headers=KEY).status_code
             for _ in range(3)]
    assert codes == [200, 200, 429]
    limited = client.post("/api/chat-with-ai", json=chat_body(), headers=KEY)
    assert limited.json() == {"success": False,
                              "error": {"code": "RATE_LIMITED", "message": "Too many requests"}}
    assert 1 <= int(limited.headers["retry-after"]) <= 60
    other = client.post("/api/chat-with-ai", json=chat_body(), headers={"API-KEY": "other"})
    assert other.status_code == 200


def test_it_can_refuse_for_insufficient_credits(sim: Simulator, client: httpx.Client) -> None:
    sim.configure(insufficient_credits=True, insufficient_credits_status=403)
    response = client.post("/api/chat-with-ai", json=chat_body(), headers=KEY)
    assert response.status_code == 403
    assert response.json() == {"errorCode": "INSUFFICIENT_CREDITS",
                               "message": "Not enough credits"}


def test_unknown_switches_and_script_keys_fail_loudly(sim: Simulator) -> None:
    with pytest.raises(ValueError):
        sim.configure(chunk_sise=3)
    with pytest.raises(ValueError):
        sim.script({"drop_afterr": 1})


def test_the_control_api_drives_the_same_state(sim: Simulator, client: httpx.Client) -> None:
    client.post("/_sim/script", json={"reply": {"text": "from http"}, "times": 1})
    client.post("/_sim/config", json={"finish_reason": "complete"})
    record = client.post("/api/chat-with-ai", json=chat_body(), headers=KEY).json()["aiRecord"]
    assert record["aiRecordDetail"]["resultObject"] == ["from http"]
    assert record["metadata"]["finishReason"] == "complete"
    listed = client.get("/_sim/requests", params={"path": "/api/chat-with-ai"}).json()
    assert listed["total"] == 1
    assert json.loads(base64.b64decode(listed["requests"][0]["body_b64"]))
    url = client.post("/_sim/publish", params={"path": "a.txt", "content_type": "text/plain"},
                      content=b"hi").json()["url"]
    assert httpx.get(url).text == "hi"
    client.post("/_sim/reset")
    assert sim.requests == [] and sim.config["finish_reason"] == "stop"


def test_it_runs_standalone_and_announces_its_address() -> None:
    process = subprocess.Popen([sys.executable, "-m", "tests.onemin_simulator", "--port", "0"],
                               cwd=REPO, stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        line = process.stdout.readline().strip()
        assert line.startswith("1min.ai simulator listening on http://127.0.0.1:")
        url = line.rsplit(" ", 1)[1]
        assert httpx.get(f"{url}/models", params={"feature": "TEXT_TO_SPEECH"}).json()["total"] == 3
    finally:
        process.terminate()
        process.wait(timeout=10)
