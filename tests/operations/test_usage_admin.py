"""The operator's usage pages in the admin: totals, filters, search, actions; never a raw key."""
import json
import re
from datetime import datetime, timedelta, timezone

import pytest

from quotas.models import BlockedClient, ClientOverride, QuotaPolicy, UsageDaily, UsageRecord

pytestmark = pytest.mark.django_db
TODAY = datetime.now(timezone.utc).date()
KEY = "ab" * 16


@pytest.fixture
def usage():
    for ip, key, model, status, tokens in [("192.0.2.1", KEY, "gpt-4o-mini", 200, 100), ("192.0.2.1", KEY, "o3", 500, 0),
                                           ("192.0.2.2", "cd" * 16, "gpt-4o-mini", 429, 0)]:
        UsageDaily.objects.create(day=TODAY, client_ip=ip, key_fingerprint=key, endpoint="chat.completions", model=model,
                                  status=status, requests=1, prompt_tokens=tokens, completion_tokens=tokens // 2)
        UsageRecord.objects.create(time=datetime.now(timezone.utc), client_ip=ip, key_fingerprint=key,
                                   endpoint="chat.completions", model=model, status=status, prompt_tokens=tokens)


def chart_data(response):
    return json.loads(re.search(r'<script id="usage-data" type="application/json">(.*?)</script>',
                                response.content.decode(), re.S).group(1))


def test_the_dashboard_carries_series_top_ips_and_top_models(admin_client, usage):
    response = admin_client.get("/admin/quotas/usagedashboard/?days=7")
    assert response.status_code == 200
    data = chart_data(response)
    assert len(data["series"]) == 7 and data["series"][-1]["requests"] == 3 and data["series"][-1]["errors"] == 2
    assert [row["label"] for row in data["top_ips"]] == ["192.0.2.1", "192.0.2.2"]
    assert data["top_models"][0] == {"label": "gpt-4o-mini", "requests": 2, "tokens": 150}
    # The charts are drawn by our own script: nothing on the page loads from another host (a CDN).
    # (Not a search for "cdn" in the page: its random CSRF token can hold those letters.)
    page = response.content.decode()
    loaded = re.findall(r'<(?:script|link|img)\b[^>]*?\b(?:src|href)="([^"]+)"', page)
    assert any(url.endswith("/quotas/charts.js") for url in loaded)
    assert all(url.startswith("/") and not url.startswith("//") for url in loaded), loaded


def test_today_is_charted_per_hour(admin_client, usage):
    data = chart_data(admin_client.get("/admin/quotas/usagedashboard/?days=1"))
    assert len(data["series"]) == datetime.now(timezone.utc).hour + 1
    assert sum(row["requests"] for row in data["series"]) == 3


def test_the_ip_list_has_totals_filters_and_search(admin_client, usage):
    page = admin_client.get("/admin/quotas/usagebyip/").content.decode()
    assert "192.0.2.1" in page and "192.0.2.2" in page and "<tfoot>" in page
    only_errors = admin_client.get("/admin/quotas/usagebyip/?status=5xx").content.decode()
    assert "192.0.2.1" in only_errors and "192.0.2.2" not in only_errors
    searched = admin_client.get("/admin/quotas/usagebyip/?q=0.2.2").content.decode()
    assert "192.0.2.2" in searched and "192.0.2.1" not in searched
    by_model = admin_client.get("/admin/quotas/usagebyip/?model=o3").content.decode()
    assert "192.0.2.1" in by_model and "192.0.2.2" not in by_model


def test_blocking_and_unblocking_an_ip_from_its_list(admin_client, usage):
    response = admin_client.post("/admin/quotas/usagebyip/?days=7", {"action": "block", "target": "192.0.2.2"})
    assert response.status_code == 302 and response["Location"].endswith("?days=7")
    assert BlockedClient.objects.get().target == "192.0.2.2/32"
    assert "blocked</strong>" in admin_client.get("/admin/quotas/usagebyip/").content.decode()
    admin_client.post("/admin/quotas/usagebyip/", {"action": "unblock", "target": "192.0.2.2"})
    assert not BlockedClient.objects.exists()


def test_assigning_a_policy_to_a_key_from_its_list(admin_client, usage):
    team = QuotaPolicy.objects.create(name="team", requests_per_minute=5)
    admin_client.post("/admin/quotas/usagebykey/", {"action": "assign", "target": KEY, "policy": team.pk})
    assert ClientOverride.objects.get().policy == team
    default = QuotaPolicy.objects.get(is_default=True)
    admin_client.post("/admin/quotas/usagebykey/", {"action": "assign", "target": KEY, "policy": default.pk})
    assert not ClientOverride.objects.exists()


def test_the_record_list_shows_totals_and_filters_by_status_class(admin_client, usage):
    page = admin_client.get("/admin/quotas/usagerecord/?status_class=errors").content.decode()
    assert "Matching requests: <strong>2</strong>" in page


def test_the_record_list_can_block_the_ips_of_selected_records(admin_client, usage):
    ids = list(UsageRecord.objects.filter(client_ip="192.0.2.2").values_list("pk", flat=True))
    admin_client.post("/admin/quotas/usagerecord/", {"action": "block_ips", "_selected_action": ids})
    assert list(BlockedClient.objects.values_list("target", flat=True)) == ["192.0.2.2/32"]


def test_pages_show_fingerprints_never_keys(admin_client, usage):
    for path in ("/admin/quotas/usagebykey/", "/admin/quotas/usagerecord/", "/admin/quotas/usagedashboard/"):
        page = admin_client.get(path).content.decode()
        assert "sk-" not in page
    assert KEY in admin_client.get("/admin/quotas/usagebykey/").content.decode()


def test_a_user_without_permission_cannot_see_the_pages(django_user_model, usage):
    from django.test import Client

    client = Client()
    client.force_login(django_user_model.objects.create_user("viewer", password="pw-123456", is_staff=True))
    assert client.get("/admin/quotas/usagedashboard/").status_code == 403


def test_old_days_are_outside_the_default_period(admin_client, usage):
    UsageDaily.objects.create(day=TODAY - timedelta(days=30), client_ip="192.0.2.77", endpoint="models", status=200, requests=1)
    assert "192.0.2.77" not in admin_client.get("/admin/quotas/usagebyip/").content.decode()
    assert "192.0.2.77" in admin_client.get("/admin/quotas/usagebyip/?days=90").content.decode()


def test_policies_show_what_their_blank_fields_inherit(admin_client, settings):
    settings.RATE_LIMIT_REQUESTS_PER_MINUTE = 180
    QuotaPolicy.objects.filter(is_default=True).update(tokens_per_minute=5000)
    team = QuotaPolicy.objects.create(name="team", requests_per_minute=0)
    page = admin_client.get("/admin/quotas/quotapolicy/").content.decode()
    assert "inherit (180)" in page and "unlimited" in page and "5,000" in page
    change = admin_client.get(f"/admin/quotas/quotapolicy/{team.pk}/change/").content.decode()
    assert "from the default policy" in change and "5,000 tokens/min" in change


def test_assigning_a_policy_to_the_keys_of_selected_records_asks_which_policy(admin_client, usage):
    team = QuotaPolicy.objects.create(name="team")
    ids = list(UsageRecord.objects.filter(key_fingerprint=KEY).values_list("pk", flat=True))
    form = admin_client.post("/admin/quotas/usagerecord/", {"action": "assign_policy_to_keys", "_selected_action": ids})
    assert form.status_code == 200 and KEY in form.content.decode()
    done = admin_client.post("/admin/quotas/usagerecord/", {"action": "assign_policy_to_keys", "_selected_action": ids,
                                                              "apply": "Assign", "policy": team.pk})
    assert done.status_code == 302
    assert list(ClientOverride.objects.values_list("kind", "target", "policy__name")) == [("key", KEY, "team")]
