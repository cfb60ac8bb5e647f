"""The usage pages say what the relay does to each client: network rules, key names, one label for no key."""
import json
import re
from datetime import datetime, timezone

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from keys.models import KeyName
from quotas.models import ClientOverride, QuotaPolicy, UsageDaily, UsageRecord

pytestmark = pytest.mark.django_db
TODAY = datetime.now(timezone.utc).date()
NAMED = "ef" * 16


def rollup(ip="192.0.2.9", key="", requests=1, tokens=10, model="gpt-4o-mini", status=200):
    UsageDaily.objects.create(day=TODAY, client_ip=ip, key_fingerprint=key, endpoint="chat.completions", model=model,
                              status=status, requests=requests, prompt_tokens=tokens, completion_tokens=0)


def row_of(response, subject: str) -> str:
    """The HTML of the table row whose first cell shows `subject`."""
    page = response.content.decode()
    rows = re.findall(r"<tr[ >].*?</tr>", page, re.S)
    found = [row for row in rows if f"<code>{subject}</code>" in row]
    assert len(found) == 1, f"{subject} in {len(found)} rows"
    return found[0]


def test_an_ip_under_a_network_policy_shows_that_policy(admin_client):
    rollup("10.1.2.3")
    rollup("192.0.2.9")
    ClientOverride.objects.create(kind="ip", target="10.0.0.0/8", policy=QuotaPolicy.objects.create(name="wide-net"))
    page = admin_client.get("/admin/quotas/usagebyip/")
    inside = row_of(page, "10.1.2.3")
    assert re.search(r'class="row-policy">wide-net <span class="usage-via">\(via 10\.0\.0\.0/8\)', inside)
    assert 'class="row-policy">default<' in row_of(page, "192.0.2.9")


def test_an_ip_blocked_by_a_network_shows_the_badge_and_unblocks_that_network(admin_client):
    rollup("10.1.2.3")
    rollup("192.0.2.9")
    call_command("quota", "block", "ip", "10.1.0.0/16")
    page = admin_client.get("/admin/quotas/usagebyip/")
    inside = row_of(page, "10.1.2.3")
    assert "blocked by 10.1.0.0/16" in inside and 'value="unblock"' in inside and 'value="block"' not in inside
    assert 'name="target" value="10.1.0.0/16"' in inside  # Unblock lifts the rule that refuses it
    outside = row_of(page, "192.0.2.9")
    assert "blocked" not in outside and 'value="block"' in outside


def test_the_rules_are_read_once_per_page_not_once_per_row(admin_client):
    rollup("10.1.2.3")
    with CaptureQueriesContext(connection) as one_row:
        admin_client.get("/admin/quotas/usagebyip/")
    for n in range(30):
        rollup(f"10.2.0.{n + 1}")
    with CaptureQueriesContext(connection) as many_rows:
        admin_client.get("/admin/quotas/usagebyip/")
    assert len(many_rows) == len(one_row)


def test_top_client_ips_are_ordered_by_requests(admin_client):
    rollup("192.0.2.1", requests=1, tokens=5000)
    rollup("192.0.2.2", requests=9, tokens=10)
    page = admin_client.get("/admin/quotas/usagedashboard/?days=1").content.decode()
    data = json.loads(re.search(r'<script id="usage-data" type="application/json">(.*?)</script>', page, re.S).group(1))
    assert [row["label"] for row in data["top_ips"]] == ["192.0.2.2", "192.0.2.1"]


def test_a_named_pass_through_key_shows_its_name_on_every_page_and_can_be_searched(admin_client):
    KeyName.objects.create(fingerprint=NAMED, name="Alice's laptop")
    rollup(key=NAMED)
    UsageRecord.objects.create(time=datetime.now(timezone.utc), client_ip="192.0.2.9", key_fingerprint=NAMED,
                               endpoint="chat.completions", model="gpt-4o-mini", status=200)
    for path in ("/admin/quotas/usagebykey/", "/admin/quotas/usagedashboard/", "/admin/quotas/usagerecord/"):
        assert "Alice&#x27;s laptop" in admin_client.get(path).content.decode(), path
    assert NAMED in admin_client.get("/admin/quotas/usagebykey/?q=laptop").content.decode()


def test_an_unnamed_key_offers_a_name_and_the_name_is_never_a_key(admin_client):
    rollup(key="12" * 16)
    row = row_of(admin_client.get("/admin/quotas/usagebykey/"), "12" * 16)
    assert f"/admin/keys/keyname/add/?fingerprint={'12' * 16}" in row
    form = admin_client.get(f"/admin/keys/keyname/add/?fingerprint={'12' * 16}").content.decode()
    assert f'value="{"12" * 16}"' in form
    refused = admin_client.post("/admin/keys/keyname/add/", {"fingerprint": "sk-a-real-key-0123456789", "name": "x"})
    assert refused.status_code == 200 and "never the key itself" in refused.content.decode()
    assert not KeyName.objects.exists()


def test_usage_without_a_key_is_labelled_the_same_everywhere(admin_client):
    rollup(key="")
    UsageRecord.objects.create(time=datetime.now(timezone.utc), client_ip="192.0.2.9", key_fingerprint="",
                               endpoint="chat.completions", model="gpt-4o-mini", status=401)
    assert "<code>(no key)</code>" in admin_client.get("/admin/quotas/usagebykey/").content.decode()
    assert "<code>(no key)</code>" in admin_client.get("/admin/quotas/usagedashboard/").content.decode()
    assert "(no key)" in admin_client.get("/admin/quotas/usagerecord/").content.decode()
