"""One usage record per /v1/ call, written in the background: normal, failed and cut-short calls."""
import httpx

from core.identity import fingerprint
from tests.relay_operator import fresh_key, query, usage_of, wait_for_rows

MESSAGES = [{"role": "user", "content": "hi"}]
LONG_REPLY = "word " * 800


def post(relay, key, **body):
    return httpx.post(f"{relay.url}/v1/chat/completions", headers={"Authorization": f"Bearer {key}"},
                      json={"model": "gpt-4o-mini", "messages": MESSAGES, **body}, timeout=30)


def records(relay, key, count=1):
    rows = wait_for_rows(lambda: usage_of(relay, fingerprint(key)), count)
    assert len(rows) == count, rows
    return rows


def test_a_completed_call_is_recorded_with_its_tokens_and_never_the_raw_key(relay, sim):
    key = fresh_key()
    sim.script({"text": "hello there", "metadata": {"inputToken": 9, "outputToken": 3, "totalToken": 12, "credit": 42}})
    response = post(relay, key)
    assert response.status_code == 200
    (row,) = records(relay, key)
    assert (row["endpoint"], row["model"], row["status"]) == ("chat.completions", "gpt-4o-mini", 200)
    assert (row["prompt_tokens"], row["completion_tokens"], row["credits"]) == (9, 3, 42)
    assert row["client_ip"] == "127.0.0.1"
    assert not row["streamed"] and not row["cut_short"] and not row["unmetered"]
    assert row["latency_ms"] >= 0
    assert key not in repr(row) and key[8:] not in repr(row)


def test_a_failed_call_is_recorded_with_its_status(relay, sim):
    key = fresh_key()
    sim.script({"status": 500, "message": "boom"})
    assert post(relay, key).status_code == 502
    (row,) = records(relay, key)
    assert row["status"] == 502
    assert (row["prompt_tokens"], row["completion_tokens"]) == (0, 0)


def test_a_refused_call_is_recorded_too(relay, sim):
    key = fresh_key()
    assert httpx.get(f"{relay.url}/v1/models/no-such-model", headers={"Authorization": f"Bearer {key}"}).status_code == 404
    (row,) = records(relay, key)
    assert (row["endpoint"], row["status"]) == ("models", 404)


def test_a_completed_stream_is_recorded_as_streamed_with_its_tokens(relay, sim):
    key = fresh_key()
    sim.script({"text": "streamed words here", "metadata": {"inputToken": 5, "outputToken": 4, "totalToken": 9}})
    with httpx.stream("POST", f"{relay.url}/v1/chat/completions", headers={"Authorization": f"Bearer {key}"},
                      json={"model": "gpt-4o-mini", "messages": MESSAGES, "stream": True}) as response:
        assert response.status_code == 200
        response.read()
    (row,) = records(relay, key)
    assert row["streamed"] and not row["cut_short"]
    assert (row["status"], row["prompt_tokens"], row["completion_tokens"]) == (200, 5, 4)


def test_a_stream_failing_midway_is_recorded_with_the_failure(relay, sim):
    key = fresh_key()
    sim.script({"text": LONG_REPLY, "stream_error_after": 2, "message": "provider exploded"})
    with httpx.stream("POST", f"{relay.url}/v1/chat/completions", headers={"Authorization": f"Bearer {key}"},
                      json={"model": "gpt-4o-mini", "messages": MESSAGES, "stream": True}) as response:
        response.read()
    (row,) = records(relay, key)
    assert row["streamed"] and row["status"] == 502 and not row["cut_short"]


def test_a_stream_the_client_abandons_is_recorded_as_cut_short_with_what_was_sent(relay, sim):
    key = fresh_key()
    sim.script({"text": LONG_REPLY, "chunk_delay_ms": 20})
    with httpx.stream("POST", f"{relay.url}/v1/chat/completions", headers={"Authorization": f"Bearer {key}"},
                      json={"model": "gpt-4o-mini", "messages": MESSAGES, "stream": True}, timeout=30) as response:
        deltas = 0
        for line in response.iter_lines():
            deltas += '"content":"w' in line
            if deltas >= 3:
                break  # hang up mid-answer
    (row,) = records(relay, key)
    assert row["streamed"] and row["cut_short"]
    assert 0 < row["completion_tokens"] < 800


def test_daily_rollups_add_up_the_records(relay, sim):
    key = fresh_key()
    sim.script({"text": "x", "metadata": {"inputToken": 10, "outputToken": 5, "totalToken": 15}}, times=3)
    for _ in range(3):
        assert post(relay, key).status_code == 200
    records(relay, key, 3)
    (rollup,) = query(relay, "SELECT * FROM quotas_usagedaily WHERE key_fingerprint = %s", (fingerprint(key),))
    assert (rollup["requests"], rollup["prompt_tokens"], rollup["completion_tokens"]) == (3, 30, 15)
    assert (rollup["endpoint"], rollup["model"], rollup["status"]) == ("chat.completions", "gpt-4o-mini", 200)


def test_records_still_buffered_are_written_on_a_normal_shutdown(relay_factory, sim):
    quiet = relay_factory(USAGE_FLUSH_SECONDS="3600", USAGE_BATCH_SIZE="100000")
    key = fresh_key()
    for _ in range(4):
        assert post(quiet, key).status_code == 200
    assert usage_of(quiet, fingerprint(key)) == []  # nothing flushed yet: the interval is an hour
    quiet.stop()  # SIGTERM, as a service manager sends it
    assert len(usage_of(quiet, fingerprint(key))) == 4


def call_each_endpoint(relay, key):
    """One successful call to every /v1/ endpoint; returns {endpoint name: response}."""
    from tests import media_files as media

    auth = {"Authorization": f"Bearer {key}"}
    url = relay.url + "/v1"
    return {
        "chat.completions": httpx.post(f"{url}/chat/completions", headers=auth, json={"model": "gpt-4o-mini", "messages": MESSAGES}),
        "responses": httpx.post(f"{url}/responses", headers=auth, json={"model": "gpt-4o-mini", "input": "hi", "store": False}),
        "images.generations": httpx.post(f"{url}/images/generations", headers=auth,
                                         json={"model": "dall-e-2", "prompt": "a pear", "size": "256x256"}),
        "audio.speech": httpx.post(f"{url}/audio/speech", headers=auth, json={"model": "tts-1", "voice": "alloy", "input": "One"}),
        "audio.transcriptions": httpx.post(f"{url}/audio/transcriptions", headers=auth, data={"model": "whisper-1"},
                                           files={"file": ("a.wav", media.wav(1.0), "audio/wav")}),
        "models": httpx.get(f"{url}/models", headers=auth),
    }


def test_every_endpoint_is_counted_and_recorded(relay, sim):
    key = fresh_key()
    responses = call_each_endpoint(relay, key)
    for name, response in responses.items():
        assert response.status_code == 200, (name, response.text)
        assert response.headers["x-ratelimit-limit-requests"], name
    rows = records(relay, key, len(responses))
    assert sorted(row["endpoint"] for row in rows) == sorted(responses)
    assert all(row["status"] == 200 for row in rows)
    by_endpoint = {row["endpoint"]: row for row in rows}
    assert by_endpoint["responses"]["prompt_tokens"] > 0 and by_endpoint["responses"]["model"] == "gpt-4o-mini"
