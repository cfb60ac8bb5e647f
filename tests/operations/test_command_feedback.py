"""Operator commands say what went wrong and how to fix it, instead of silently doing nothing."""
import io
import os
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone

import pytest
from django.core.cache import cache
from django.core.management import CommandError, call_command

from api.model_registry import SHARED_KEY
from core.identity import fingerprint
from keys.models import KeyName, UpstreamKey
from quotas.models import UsageDaily
from tests.relay_process import ROOT

pytestmark = pytest.mark.django_db
TODAY = datetime.now(timezone.utc).date()
RAW_KEY = "sk-a-clients-own-1min-key-0123456789"


def run(*args):
    out, err = io.StringIO(), io.StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


@pytest.fixture
def catalogue():
    """A cached model list naming two models (as refresh_models leaves it)."""
    entry = {"status": "ACTIVE", "features": ["UNIFY_CHAT_WITH_AI"]}
    cache.set(SHARED_KEY, {"models": {"gpt-4o-mini": entry, "gpt-4o": entry}, "fetched_at": time.time()})
    yield
    cache.delete(SHARED_KEY)


def test_create_relay_key_in_pass_through_mode_warns_that_the_key_will_be_refused(settings):
    settings.RELAY_AUTH_MODE = "passthrough"
    out, err = run("create_relay_key", "--name", "ci")
    assert out.strip()  # the key is still made and shown once
    assert "RELAY_AUTH_MODE is passthrough" in err and "refused (401)" in err and "RELAY_AUTH_MODE=managed" in err


def test_create_relay_key_in_managed_mode_warns_about_an_empty_pool(settings):
    settings.RELAY_AUTH_MODE = "managed"
    _, err = run("create_relay_key", "--name", "ci")
    assert "no enabled 1min.ai key" in err and "add_upstream_key" in err
    assert not UpstreamKey.objects.exists()


def test_add_upstream_key_without_an_encryption_key_says_how_to_make_one(settings, monkeypatch):
    settings.RELAY_ENCRYPTION_KEY = ""
    monkeypatch.setattr("sys.stdin", io.StringIO(RAW_KEY + "\n"))
    with pytest.raises(CommandError) as error:
        run("add_upstream_key", "--label", "main")
    assert "Fernet.generate_key()" in str(error.value) and "RELAY_ENCRYPTION_KEY" in str(error.value)
    assert "manage.py check" not in str(error.value)


def test_usage_report_refuses_an_unknown_status_with_the_choices():
    with pytest.raises(CommandError) as error:
        run("usage_report", "--status", "teapot")
    assert "ok, errors, 429, 4xx, 5xx" in str(error.value)
    run("usage_report", "--status", "418")  # a status code is fine


@pytest.mark.parametrize("given", [RAW_KEY, "Alice's laptop"])
def test_usage_report_finds_a_key_by_the_key_itself_or_its_name(given):
    KeyName.objects.create(fingerprint=fingerprint(RAW_KEY), name="Alice's laptop")
    UsageDaily.objects.create(day=TODAY, client_ip="192.0.2.1", key_fingerprint=fingerprint(RAW_KEY),
                              endpoint="chat.completions", model="gpt-4o-mini", status=200, requests=4)
    out, err = run("usage_report", "--key", given, "--format", "csv")
    assert out.splitlines()[1].startswith("192.0.2.1,4,")
    assert fingerprint(RAW_KEY) in err and RAW_KEY not in out + err


def test_usage_report_says_a_short_fingerprint_is_not_one():
    with pytest.raises(CommandError, match="32 hex characters"):
        run("usage_report", "--key", "abcdef12")


def test_quota_unassign_and_unblock_of_nothing_fail_with_a_reason():
    with pytest.raises(CommandError, match="no policy of its own"):
        run("quota", "unassign", "ip", "192.0.2.5")
    with pytest.raises(CommandError, match="is not blocked"):
        run("quota", "unblock", "ip", "192.0.2.5")


def test_quota_policy_warns_about_models_the_catalogue_does_not_name(catalogue):
    _, err = run("quota", "policy", "typo", "--models", "gpt-4o-mini,no-such-model")
    assert "no-such-model" in err and "gpt-4o-mini" not in err.split("names no model")[1].split("(")[0]
    _, err = run("quota", "policy", "fine", "--models", "gpt-4o,*")
    assert err == ""


def test_quota_policy_says_when_it_could_not_check_the_models():
    cache.clear()
    _, err = run("quota", "policy", "unchecked", "--models", "whatever")
    assert "not checked" in err and "refresh_models" in err


def test_usage_report_into_a_closed_pipe_exits_quietly():
    with tempfile.TemporaryDirectory(prefix="relay-pipe-") as workdir:
        env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
        env.update(DATABASE_URL=f"sqlite:///{workdir}/db.sqlite3", DJANGO_SETTINGS_MODULE="relay_site.settings")
        subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True, timeout=120)
        reader = subprocess.Popen([sys.executable, "manage.py", "usage_report", "--days", "3"], cwd=ROOT, env=env,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        reader.stdout.close()  # like `| head -0`: the reader is gone before the first line
        _, err = reader.communicate(timeout=60)
    assert b"Traceback" not in err and b"BrokenPipeError" not in err, err.decode()


def test_refresh_models_counts_in_correct_english():
    from api.management.commands.refresh_models import models

    assert (models(1), models(0), models(2, "active")) == ("1 model", "0 models", "2 active models")


def test_usage_report_by_key_names_keys_and_labels_keyless_usage_as_the_admin_does():
    KeyName.objects.create(fingerprint=fingerprint(RAW_KEY), name="Alice's laptop")
    for key in (fingerprint(RAW_KEY), ""):
        UsageDaily.objects.create(day=TODAY, client_ip="192.0.2.1", key_fingerprint=key,
                                  endpoint="chat.completions", model="gpt-4o-mini", status=200, requests=1)
    out, _ = run("usage_report", "--by", "key")
    assert "Alice's laptop" in out and "(no key)" in out
