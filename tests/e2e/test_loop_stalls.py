"""CPU-heavy work stays off the event loop: other requests are answered while a huge prompt is counted."""
import threading
import time

import httpx

from tests.conftest import TEST_KEY

BIG_PROMPT_CHARS = 18_700_000


def big_prompt() -> str:
    words = ["alpha", "beta,", "gamma", "delta.", "12345", "naïve", "日本語", "\n"]
    return " ".join(words[i % len(words)] + str(i % 97) for i in range(BIG_PROMPT_CHARS // 8))[:BIG_PROMPT_CHARS]


def test_healthz_is_not_held_up_while_an_18mb_prompt_is_counted(relay, sim):
    sim.script({"text": "ok", "metadata": {"inputToken": 1, "outputToken": 1, "totalToken": 2}})
    body = httpx.Request("POST", "/", json={"model": "gpt-4o-mini",
                                            "messages": [{"role": "user", "content": big_prompt()}]}).read()
    result = {}

    def send_big() -> None:
        result["response"] = httpx.post(
            f"{relay.url}/v1/chat/completions", content=body, timeout=120,
            headers={"Authorization": f"Bearer {TEST_KEY}", "Content-Type": "application/json"})

    sender = threading.Thread(target=send_big)
    latencies = []
    with httpx.Client(base_url=relay.url, timeout=10) as probe:
        probe.get("/healthz")  # the connection is open before the big request starts
        sender.start()
        while sender.is_alive():
            started = time.perf_counter()
            assert probe.get("/healthz").status_code == 200
            latencies.append(time.perf_counter() - started)
            sender.join(0.02)  # pacing of the probe, not synchronisation
    # The simulator echoes the prompt back in its record, past the relay's upstream size cap: a 502.
    assert result["response"].status_code in (200, 502), result["response"].text[:500]
    assert len(latencies) > 10
    # Before: one 2.7 s stall (the count on the loop). Now ~0.1-0.3 s at worst on an idle 2-core
    # machine, up to 0.5 s while other suites share it; the 100 ms target is not met (see
    # docs/input-hardening.md). The bound keeps the count off the loop: 1 s, well under the 2.7 s.
    assert max(latencies) < 1.0, sorted(latencies)[-5:]
