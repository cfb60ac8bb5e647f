"""In a real headless Chromium: an operator logs in to the admin and the usage dashboard draws its charts."""
import json
import os
import time
from urllib.parse import quote

import httpx
import pytest

from core.identity import fingerprint
from tests.chromium_cdp import Chromium, find_chromium
from tests.relay_operator import create_admin, fresh_key, manage, usage_of, wait_for_rows

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


LEGEND = """(() => Array.from(document.querySelectorAll('#chart-requests g.legend')).map(g => ({
  field: g.dataset.field,
  swatch: getComputedStyle(g.querySelector('rect')).fill,
  label: getComputedStyle(g.querySelector('text')).fill,
  line: getComputedStyle(document.querySelector('#chart-requests path.series[data-field="' + g.dataset.field + '"]')).stroke,
})))()"""

# Every table on the page: does it fit its box, or scroll inside a box of its own?
OVERFLOW = """(() => Array.from(document.querySelectorAll('#content-main table')).map(table => {
  const box = table.parentElement, own = getComputedStyle(box).overflowX;
  return {id: table.id || box.className || box.id, width: box.scrollWidth, box: box.clientWidth, fits: box.scrollWidth <= box.clientWidth,
          scrollsInside: (own === 'auto' || own === 'scroll') && box.clientWidth <= document.documentElement.clientWidth,
          pageFits: document.documentElement.scrollWidth <= document.documentElement.clientWidth};
}))()"""


def logged_in(relay, path: str, width: int = 1400) -> Chromium:
    """A headless Chromium window `width` pixels wide, logged in to the relay's admin, showing `path`."""
    username, password = create_admin(relay)
    browser = Chromium(CHROMIUM)
    browser.open_page()
    browser.send("Emulation.setDeviceMetricsOverride", {"width": width, "height": 900, "deviceScaleFactor": 1,
                                                         "mobile": False})
    browser.navigate(f"{relay.url}/admin/login/?next={quote(path)}")
    browser.events.clear()
    browser.send("Runtime.evaluate", {"expression": f"""
        document.getElementById('id_username').value = {json.dumps(username)};
        document.getElementById('id_password').value = {json.dumps(password)};
        document.getElementById('login-form').submit();"""})
    browser.wait_event("Page.loadEventFired")
    return browser


def wait_drawn(browser: Chromium) -> dict:
    deadline = time.monotonic() + 15
    while (state := browser.evaluate(CHARTS_DRAWN))["drawn"] < 4:
        assert time.monotonic() < deadline, state
        time.sleep(0.05)  # polling the page with a deadline
    return state


def test_an_operator_logs_in_and_sees_the_dashboard_charts_drawn(relay, sim):
    key = fresh_key()
    for _ in range(3):
        httpx.post(f"{relay.url}/v1/chat/completions", headers={"Authorization": f"Bearer {key}"},
                   json={"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}, timeout=30)
    wait_for_rows(lambda: usage_of(relay, fingerprint(key)), 3)
    browser = logged_in(relay, "/admin/quotas/usagedashboard/?days=1")
    try:
        state = wait_drawn(browser)
        assert state["title"].startswith("Usage dashboard")
        assert sum(state["points"]) >= 3  # this test's requests are among today's, hour by hour
        assert state["bars"] and max(state["bars"]) > 0 and state["ipBars"] >= 1
        requested = browser.requested_urls()
        assert any(url.endswith("/static/quotas/charts.js") for url in requested)
        assert all(url.startswith(relay.url) or url.startswith("data:") for url in requested), requested
    finally:
        browser.close()


def test_the_legend_is_in_the_colours_of_its_lines_and_tables_fit_at_1400_pixels(relay, sim):
    key = fresh_key()
    for model in ("gpt-4o-mini", "gpt-4o"):
        httpx.post(f"{relay.url}/v1/chat/completions", headers={"Authorization": f"Bearer {key}"},
                   json={"model": model, "messages": [{"role": "user", "content": "hi"}]}, timeout=30)
    wait_for_rows(lambda: usage_of(relay, fingerprint(key)), 2)
    long_name = "a pass-through key with a rather long name, " * 2  # a wide row
    manage(relay, "shell", "-c", f"from keys.models import KeyName; KeyName.objects.create("
                                 f"fingerprint={fingerprint(key)!r}, name={long_name!r})")
    browser = logged_in(relay, "/admin/quotas/usagedashboard/?days=1")
    try:
        wait_drawn(browser)
        legend = browser.evaluate(LEGEND)
        assert [entry["field"] for entry in legend] == ["requests", "errors", "rate_limited"]
        assert len({entry["label"] for entry in legend}) == 3, legend  # three colours, told apart
        for entry in legend:
            assert entry["label"] == entry["swatch"] == entry["line"], entry
        for path in ("/admin/quotas/usagerecord/", "/admin/quotas/usagebykey/?days=1", "/admin/quotas/usagebyip/?days=1",
                     "/admin/quotas/usagedashboard/?days=1"):
            browser.navigate(f"{relay.url}{path}")
            tables = browser.evaluate(OVERFLOW)
            assert tables, path
            for table in tables:
                assert table["fits"] or table["scrollsInside"], (path, table)
                if table["id"] == "result_list":  # the usage records: all ten columns in view, no sideways scroll
                    assert table["fits"], (path, table)
                assert table["pageFits"], (path, table)
    finally:
        browser.close()
