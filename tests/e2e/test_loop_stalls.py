"""CPU-heavy work stays off the event loop: other requests are answered while a huge prompt is handled."""
import json
import threading

import httpx
import pytest

from tests.conftest import TEST_KEY
from tests.latency_probe import probing

BIG_PROMPT_CHARS = 18_700_000
# /healthz must answer within this while the 18 MB prompt is handled (the target). The
# relay's own longest holds of its event loop are now 10-20 ms of CPU (one copy of the body each in
# Twisted and Django, the join of its decoded text: docs/input-hardening.md); on a quiet 2-core
# machine the worst probe of a run took 21-44 ms. What a run sees on top is the machine: with other
# suites sharing it (load 4-6), one run in six went past 100 ms (129 ms; 224 ms at load 6): the
# process was seen paused 75 ms with none of its threads running. So the run is repeated up to
# ATTEMPTS times and the best one is judged: noise rarely strikes every run, a stall of the relay's
# own does. Three were not always enough with CI's two suites running at once (worst probes of
# three runs: 122/162/103 ms, 145/106/308 ms). Before: 71-83 ms with 1min.ai's counts, 2.3-3.1 s
# counting the prompt lazily, 3.5-3.7 s streamed.
STALL_BOUND_SECONDS = 0.1
ATTEMPTS = 5


def big_prompt() -> str:
    words = ["alpha", "beta,", "gamma", "delta.", "12345", "naïve", "日本語", "\n"]
    return " ".join(words[i % len(words)] + str(i % 97) for i in range(BIG_PROMPT_CHARS // 8))[:BIG_PROMPT_CHARS]


@pytest.fixture(scope="module")
def body_of():
    prompt = big_prompt()

    def body(stream: bool = False) -> bytes:
        options = {"stream": True, "stream_options": {"include_usage": True}} if stream else {}
        return httpx.Request("POST", "/", json={"model": "gpt-4o-mini", **options,
                                                "messages": [{"role": "user", "content": prompt}]}).read()
    return body


@pytest.fixture(scope="module")
def roomy_relay(relay_factory):
    """A relay that accepts 1min.ai's echo of an 18 MB prompt (past the default 16 MB cap), so the
    call succeeds and its usage is counted."""
    return relay_factory(UPSTREAM_MAX_RESPONSE_BYTES=str(64 * 1024 * 1024))


def post_while_probing(relay, body: bytes) -> tuple[httpx.Response, list[float]]:
    """Send `body` to the chat endpoint while another process polls /healthz; the answer and the
    probe's latencies."""
    result = {}

    def send_big() -> None:
        result["response"] = httpx.post(
            f"{relay.url}/v1/chat/completions", content=body, timeout=120,
            headers={"Authorization": f"Bearer {TEST_KEY}", "Content-Type": "application/json"})

    sender = threading.Thread(target=send_big)
    with probing(f"{relay.url}/healthz") as probe:
        sender.start()
        sender.join(180)
    assert not sender.is_alive()
    assert len(probe.latencies) > 10
    return result["response"], probe.latencies


def least_stalled(relay, sim, reply: dict, body: bytes, check) -> list[float]:
    """The worst /healthz latency of each run (`reply` scripted, `body` sent, its answer checked),
    up to ATTEMPTS runs, stopping at the first one within the bound."""
    worst: list[float] = []
    while len(worst) < ATTEMPTS and (not worst or worst[-1] >= STALL_BOUND_SECONDS):
        sim.script(reply)
        response, latencies = post_while_probing(relay, body)
        check(response)
        worst.append(max(latencies))
    return worst


def test_healthz_is_not_held_up_while_an_18mb_prompt_is_counted(relay, sim, body_of):
    def check(response: httpx.Response) -> None:
        # The simulator echoes the prompt back in its record, past the upstream size cap: a 502.
        assert response.status_code in (200, 502), response.text[:500]

    worst = least_stalled(relay, sim, {"text": "ok", "metadata": {"inputToken": 1, "outputToken": 1, "totalToken": 2}},
                          body_of(), check)
    assert min(worst) < STALL_BOUND_SECONDS, worst


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "streamed"])
def test_healthz_is_not_held_up_while_an_18mb_prompt_is_counted_lazily(roomy_relay, sim, body_of, stream):
    # No token counts from 1min.ai: the relay counts the prompt itself once the answer is in, and
    # decodes 1min.ai's 19 MB record (its result event, when streamed) echoing it.
    def check(response: httpx.Response) -> None:
        assert response.status_code == 200, response.text[:500]
        if stream:
            usage = [json.loads(line[6:]) for line in response.text.splitlines() if line.startswith("data: {")][-1]["usage"]
        else:
            usage = response.json()["usage"]
        assert usage["prompt_tokens"] > 1_000_000  # counted by the relay

    worst = least_stalled(roomy_relay, sim, {"text": "ok", "metadata": None}, body_of(stream), check)
    assert min(worst) < STALL_BOUND_SECONDS, worst
