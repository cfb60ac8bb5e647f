"""Health endpoints, Prometheus metrics, request ids, the overhead header and JSON logs."""
from __future__ import annotations

import json
import re
import shutil
import tempfile
import time
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import TEST_KEY
from tests.openai_schema import validate

AUTH = {"Authorization": f"Bearer {TEST_KEY}"}
CHAT = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Hello there"}]}
# Daphne's own access log (plain text on stdout at its default verbosity) is not the relay's logging.
DAPHNE_ACCESS_LINE = re.compile(r'^\S+:\d+ - - \[[^\]]+\] "')


def sample(metrics_text: str, name: str, **labels: str) -> float:
    """The value of one sample in Prometheus text, 0 when it is not there (yet)."""
    for family in text_string_to_metric_families(metrics_text):
        for s in family.samples:
            if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()):
                return s.value
    return 0.0


def scrape(relay, **kwargs) -> str:
    response = httpx.get(f"{relay.url}/metrics", **kwargs)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return response.text


# ---- health ----------------------------------------------------------------------------------

def test_healthz_says_the_process_is_alive(relay):
    response = httpx.get(f"{relay.url}/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok" and isinstance(body["pid"], int) and body["version"]


def test_readyz_is_ready_when_database_cache_and_model_list_are_usable_and_the_warm_up_is_over(relay, sim):
    deadline = time.monotonic() + 10
    response = httpx.get(f"{relay.url}/readyz")
    while response.status_code != 200 and time.monotonic() < deadline:  # the warm-up takes about a second
        time.sleep(0.1)
        response = httpx.get(f"{relay.url}/readyz")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "ready" and body["problems"] == []
    assert {name for name, check in body["checks"].items() if check["ok"]} == {"database", "cache", "models", "warm_up"}
    assert body["checks"]["models"]["count"] > 0


@pytest.fixture
def broken_relay(relay_factory, sim):
    """A relay whose database vanished after start, whose Redis is unreachable and whose
    upstream model list fails."""
    directory = Path(tempfile.mkdtemp(prefix="relay-broken-"))
    relay = relay_factory(
        DATABASE_URL=f"sqlite:///{directory / 'db.sqlite3'}",
        REDIS_URL="redis://127.0.0.1:1/0",
        READYZ_TIMEOUT="5",
    )
    shutil.rmtree(directory)
    sim.configure(models_fail=True)
    return relay


def test_readyz_answers_503_naming_each_problem_while_healthz_stays_up(broken_relay):
    assert httpx.get(f"{broken_relay.url}/healthz").status_code == 200
    response = httpx.get(f"{broken_relay.url}/readyz", timeout=20)
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert {name for name, check in body["checks"].items() if not check["ok"]} >= {"database", "cache", "models"}
    problems = " | ".join(body["problems"])
    assert "database: OperationalError" in problems
    assert "cache: ConnectionError" in problems
    assert "models:" in problems and "1min.ai" in problems


# ---- request ids and overhead -----------------------------------------------------------------

def test_a_sane_incoming_request_id_is_returned_and_sent_upstream(relay, sim):
    response = httpx.post(
        f"{relay.url}/v1/chat/completions", json=CHAT, headers={**AUTH, "X-Request-ID": "trace-42.a_b:c"}
    )
    assert response.status_code == 200
    assert response.headers["x-request-id"] == "trace-42.a_b:c"
    assert sim.requests_to("/api/chat-with-ai")[-1]["headers"]["x-request-id"] == "trace-42.a_b:c"


def test_a_request_without_an_id_gets_one_and_upstream_sees_the_same(relay, sim):
    with httpx.stream("POST", f"{relay.url}/v1/chat/completions", json={**CHAT, "stream": True}, headers=AUTH) as r:
        assert r.status_code == 200
        body = r.read().decode()
    assert body.rstrip().endswith("data: [DONE]")
    request_id = r.headers["x-request-id"]
    assert re.fullmatch(r"[0-9a-f]{32}", request_id)
    assert sim.requests_to("/api/chat-with-ai")[-1]["headers"]["x-request-id"] == request_id


@pytest.mark.parametrize("incoming", ["has spaces", "x" * 129, "-leading-dash", "semi;colon"])
def test_an_unusable_incoming_request_id_is_replaced(relay, sim, incoming):
    response = httpx.post(f"{relay.url}/v1/chat/completions", json=CHAT, headers={**AUTH, "X-Request-ID": incoming})
    assert response.status_code == 200
    request_id = response.headers["x-request-id"]
    assert request_id != incoming and re.fullmatch(r"[0-9a-f]{32}", request_id)
    assert sim.requests_to("/api/chat-with-ai")[-1]["headers"]["x-request-id"] == request_id


@pytest.mark.parametrize("method, path", [("GET", "/"), ("GET", "/v1/nothing"), ("GET", "/admin/login/"), ("GET", "/healthz")])
def test_every_response_carries_a_request_id_and_the_relay_overhead(relay, method, path):
    response = httpx.request(method, relay.url + path, headers=AUTH)
    assert re.fullmatch(r"[0-9a-f]{32}", response.headers["x-request-id"])
    assert float(response.headers["x-relay-overhead-ms"]) >= 0


def test_the_overhead_header_excludes_the_wait_on_1min_ai(relay, sim):
    sim.script({"text": "slow", "delay_headers_ms": 300})
    response = httpx.post(f"{relay.url}/v1/chat/completions", json=CHAT, headers=AUTH)
    assert response.status_code == 200
    overhead = float(response.headers["x-relay-overhead-ms"])
    assert 0 <= overhead < response.elapsed.total_seconds() * 1000 - 300


# ---- metrics ---------------------------------------------------------------------------------

def test_metrics_count_calls_latency_tokens_and_upstream_time_by_endpoint_model_and_status(relay, sim):
    labels = {"endpoint": "chat.completions", "model": "gpt-4o-mini", "status": "200"}
    before = scrape(relay)
    response = httpx.post(f"{relay.url}/v1/chat/completions", json=CHAT, headers=AUTH)
    assert response.status_code == 200
    validate(response.json(), "CreateChatCompletionResponse")
    usage = response.json()["usage"]
    missing = httpx.post(f"{relay.url}/v1/chat/completions", json={**CHAT, "model": "no-such-model-xyz"}, headers=AUTH)
    assert missing.status_code == 404
    after = scrape(relay)

    def delta(name: str, **l: str) -> float:
        return sample(after, name, **l) - sample(before, name, **l)

    assert delta("relay_requests_total", **labels) == 1
    assert delta("relay_request_duration_seconds_count", **labels) == 1
    assert delta("relay_tokens_total", endpoint="chat.completions", model="gpt-4o-mini", kind="prompt") == usage["prompt_tokens"]
    assert delta("relay_tokens_total", endpoint="chat.completions", model="gpt-4o-mini", kind="completion") == usage["completion_tokens"]
    assert delta("relay_upstream_duration_seconds_count", operation="POST /api/chat-with-ai", status="200") == 1
    assert delta("relay_overhead_seconds_count", endpoint="chat.completions") == 2
    # A model name the catalogue does not know is not a label of its own.
    assert delta("relay_requests_total", endpoint="chat.completions", model="other", status="404") == 1
    assert "no-such-model-xyz" not in after


def test_metrics_show_open_streams_while_they_are_open(relay, sim):
    sim.configure(chunk_delay_ms=150)
    stream_request = {**CHAT, "stream": True}
    with httpx.stream("POST", f"{relay.url}/v1/chat/completions", json=stream_request, headers=AUTH) as r:
        lines = r.iter_lines()  # held: a dropped iterator would close the stream
        assert next(lines).startswith("data: ")
        assert sample(scrape(relay), "relay_open_streams", endpoint="chat.completions") == 1
    assert sim.wait_for(lambda: sample(scrape(relay), "relay_open_streams", endpoint="chat.completions") == 0)


# ---- JSON logs and the metrics token ------------------------------------------------------------

def test_json_logs_carry_the_request_id_and_never_the_key(relay_factory, sim):
    relay = relay_factory(LOG_FORMAT="json", METRICS_TOKEN="scrape-secret")
    response = httpx.post(
        f"{relay.url}/v1/chat/completions", json=CHAT, headers={**AUTH, "X-Request-ID": "json-log-check"}
    )
    assert response.status_code == 200

    def access_entries() -> list[dict]:
        entries = []
        for line in relay.logs().splitlines():
            if line.strip() and not DAPHNE_ACCESS_LINE.match(line):
                entries.append(json.loads(line))  # every line the relay logs is one JSON object
        return entries

    assert sim.wait_for(lambda: any(e.get("request_id") == "json-log-check" for e in access_entries()))
    entry = next(e for e in access_entries() if e.get("request_id") == "json-log-check")
    assert entry["logger"] == "relay.access" and entry["level"] == "INFO"
    assert (entry["method"], entry["path"], entry["status"]) == ("POST", "/v1/chat/completions", 200)
    assert entry["model"] == "gpt-4o-mini" and entry["completion_tokens"] > 0
    assert entry["duration_ms"] >= entry["overhead_ms"] >= 0
    assert TEST_KEY not in relay.logs()

    assert httpx.get(f"{relay.url}/metrics").status_code == 401
    assert httpx.get(f"{relay.url}/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert "relay_requests_total" in scrape(relay, headers={"Authorization": "Bearer scrape-secret"})
