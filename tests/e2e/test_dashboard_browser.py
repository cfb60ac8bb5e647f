"""In a real headless Chromium: an operator logs in to the admin and the usage dashboard draws its charts."""
import json
import os
import time

import httpx
import pytest

from core.identity import fingerprint
from tests.chromium_cdp import Chromium, find_chromium
from tests.relay_operator import create_admin, fresh_key, usage_of, wait_for_rows

CHROMIUM = find_chromium()
pytestmark = pytest.mark.skipif(
    CHROMIUM is None and os.environ.get("CI", "").lower() != "true",
    reason="Chromium is not installed (.ci/run installs it; apt-get install chromium)",
)

CHARTS_DRAWN = """(() => ({
  drawn: document.querySelectorAll('.chart[data-drawn="true"] svg').length,
  points: Array.from(document.querySelectorAll('#chart-requests circle.point[data-field="requests"]'))
            .map(c => Number(c.dataset.value)),
  bars: Array.from(document.querySelectorAll('#chart-models rect.bar')).map(r => Number(r.dataset.value)),
  ipBars: document.querySelectorAll('#chart-ips rect.bar').length,
  title: document.title,
}))()"""


def test_an_operator_logs_in_and_sees_the_dashboard_charts_drawn(relay, sim):
    key = fresh_key()
    for _ in range(3):
        httpx.post(f"{relay.url}/v1/chat/completions", headers={"Authorization": f"Bearer {key}"},
                   json={"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}, timeout=30)
    wait_for_rows(lambda: usage_of(relay, fingerprint(key)), 3)
    username, password = create_admin(relay)
    browser = Chromium(CHROMIUM)
    try:
        browser.open_page()
        browser.navigate(f"{relay.url}/admin/login/?next=/admin/quotas/usagedashboard/%3Fdays%3D1")
        browser.events.clear()
        browser.send("Runtime.evaluate", {"expression": f"""
            document.getElementById('id_username').value = {json.dumps(username)};
            document.getElementById('id_password').value = {json.dumps(password)};
            document.getElementById('login-form').submit();"""})
        browser.wait_event("Page.loadEventFired")
        deadline = time.monotonic() + 15
        while (state := browser.evaluate(CHARTS_DRAWN))["drawn"] < 4:
            assert time.monotonic() < deadline, state
            time.sleep(0.05)  # polling the page with a deadline
        assert state["title"].startswith("Usage dashboard")
        assert sum(state["points"]) >= 3  # this test's requests are among today's, hour by hour
        assert state["bars"] and max(state["bars"]) > 0 and state["ipBars"] >= 1
        requested = browser.requested_urls()
        assert any(url.endswith("/static/quotas/charts.js") for url in requested)
        assert all(url.startswith(relay.url) or url.startswith("data:") for url in requested), requested
    finally:
        browser.close()
