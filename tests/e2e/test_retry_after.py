"""1min.ai's Retry-After reaches the client whichever form it takes (seconds or an HTTP date)."""
import time
from email.utils import formatdate

import httpx

from tests.conftest import TEST_KEY
from tests.openai_schema import validate


def test_a_retry_after_date_from_1min_reaches_the_client_as_seconds(relay, sim):
    sim.script({"status": 429, "retry_after": formatdate(time.time() + 120, usegmt=True)}, times=None)
    response = httpx.post(
        f"{relay.url}/v1/chat/completions", headers={"Authorization": f"Bearer {TEST_KEY}"},
        json={"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "x"}]}, timeout=30,
    )
    assert response.status_code == 429
    validate(response.json(), "ErrorResponse")
    assert 115 <= int(response.headers["retry-after"]) <= 121
    assert len(sim.requests_to("/api/chat-with-ai")) == 1  # longer than the relay would wait: not retried
