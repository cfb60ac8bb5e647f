"""usage_report and prune_usage, and the quota command operators script policies with."""
import csv
import io
from datetime import datetime, timedelta, timezone

import pytest
from django.core.management import CommandError, call_command

from quotas.models import BlockedClient, ClientOverride, QuotaPolicy, UsageDaily, UsageRecord

pytestmark = pytest.mark.django_db
TODAY = datetime.now(timezone.utc).date()


def rollup(ip, key, tokens, status=200, model="gpt-4o-mini", days_ago=0, requests=1):
    UsageDaily.objects.create(day=TODAY - timedelta(days=days_ago), client_ip=ip, key_fingerprint=key, endpoint="chat.completions",
                              model=model, status=status, requests=requests, prompt_tokens=tokens, completion_tokens=1, credits=3)


def run(*args):
    out, err = io.StringIO(), io.StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


@pytest.fixture
def usage():
    rollup("192.0.2.1", "aa" * 16, 100, requests=2)
    rollup("192.0.2.1", "bb" * 16, 10, status=429)
    rollup("192.0.2.2", "aa" * 16, 50, model="o3")
    rollup("192.0.2.3", "cc" * 16, 999, days_ago=40)


def test_the_report_sums_per_ip_over_the_period_as_csv(usage):
    out, err = run("usage_report", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [(r["subject"], r["requests"], r["errors"], r["rate_limited"], r["total_tokens"]) for r in rows] == [
        ("192.0.2.1", "3", "1", "1", "112"), ("192.0.2.2", "1", "0", "0", "51")]
    assert "Done! 2 rows" in err


def test_the_report_groups_by_key_and_filters_by_model_and_period(usage):
    out, _ = run("usage_report", "--by", "key", "--model", "o3", "--format", "csv")
    assert [r["subject"] for r in csv.DictReader(io.StringIO(out))] == ["aa" * 16]
    out, _ = run("usage_report", "--by", "key", "--days", "60", "--format", "csv")
    assert {r["subject"] for r in csv.DictReader(io.StringIO(out))} == {"aa" * 16, "bb" * 16, "cc" * 16}


def test_the_table_format_ends_with_a_summary(usage):
    out, _ = run("usage_report", "--ip", "192.0.2.2")
    lines = out.splitlines()
    assert lines[0].split()[:3] == ["subject", "requests", "errors"]
    assert lines[2].split()[0] == "192.0.2.2" and lines[-1].startswith("Done! 1 rows from")


def test_records_are_listed_one_per_request():
    UsageRecord.objects.create(time=datetime.now(timezone.utc), client_ip="192.0.2.9", key_fingerprint="dd" * 16,
                               endpoint="chat.completions", model="gpt-4o-mini", status=200, prompt_tokens=4,
                               completion_tokens=2, streamed=True, cut_short=True)
    out, _ = run("usage_report", "--records", "--key", "DD" * 16, "--format", "csv")
    (row,) = csv.DictReader(io.StringIO(out))
    assert (row["client_ip"], row["streamed"], row["cut_short"], row["prompt_tokens"]) == ("192.0.2.9", "True", "True", "4")


def test_a_bad_period_is_refused():
    with pytest.raises(CommandError):
        run("usage_report", "--since", "yesterday")


def test_prune_deletes_what_is_past_retention(settings):
    now = datetime.now(timezone.utc)
    for age in (1, 89, 91, 400):
        UsageRecord.objects.create(time=now - timedelta(days=age), endpoint="models", status=200)
    rollup("192.0.2.1", "", 1, days_ago=10)
    rollup("192.0.2.1", "", 1, days_ago=900)
    out, _ = run("prune_usage")
    assert out.startswith("Done! Pruned 2 usage records") and "and 1 daily roll-ups" in out
    assert UsageRecord.objects.count() == 2 and UsageDaily.objects.count() == 1
    out, _ = run("prune_usage", "--days", "30")
    assert "Pruned 1 usage records" in out


def test_the_quota_command_creates_assigns_blocks_and_unblocks():
    out, _ = run("quota", "policy", "team", "--rpm", "5", "--daily", "1000", "--models", "gpt-4o-mini, o3",
                 "--assign", "ip:10.1.2.3/16", "--assign", f"key:{'EE' * 16}")
    assert "created" in out and "assigned to" in out
    team = QuotaPolicy.objects.get(name="team")
    assert (team.requests_per_minute, team.daily_token_budget, team.model_list()) == (5, 1000, ["gpt-4o-mini", "o3"])
    assert set(ClientOverride.objects.values_list("target", flat=True)) == {"10.1.0.0/16", "ee" * 16}
    run("quota", "policy", "team", "--rpm", "inherit")
    assert QuotaPolicy.objects.get(name="team").requests_per_minute is None
    run("quota", "block", "ip", "203.0.113.5", "--reason", "abuse")
    assert BlockedClient.objects.get().note == "abuse"
    assert "Unblocked ip 203.0.113.5/32" in run("quota", "unblock", "ip", "203.0.113.5")[0]
    with pytest.raises(CommandError):
        run("quota", "assign", "key", "not a fingerprint!", "team")
