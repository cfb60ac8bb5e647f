"""A relay key's own quota policy: what its cached record carries, what overrides it, what retires it."""
import asyncio

import pytest
from django.db.models import ProtectedError

from core.identity import fingerprint
from keys import crypto
from keys.lookup import RelayKeyLookup, lookup
from keys.models import RelayKey, relay_keys_by_fingerprint
from quotas.models import ClientOverride, QuotaPolicy
from quotas.policies import load_table

pytestmark = pytest.mark.django_db(transaction=True)  # lookups read on a worker thread


def relay_key(name: str, policy: QuotaPolicy | None = None) -> tuple[RelayKey, str]:
    key = RelayKey(name=name, quota_policy=policy)
    secret = key.set_new_key()
    key.save()
    return key, secret


def test_a_relay_key_is_limited_by_its_policy_unless_its_fingerprint_has_an_override():
    team = QuotaPolicy.objects.create(name="team", requests_per_minute=7)
    vip = QuotaPolicy.objects.create(name="vip", requests_per_minute=70)
    _, limited = relay_key("limited", team)
    record = asyncio.run(RelayKeyLookup().find(crypto.hash_key(limited), "v"))
    assert record.policy == "team"  # what the caller carries into admission
    table = load_table()
    assert table.for_key(fingerprint(limited), record.policy).requests_per_minute == 7
    ClientOverride.objects.create(kind="key", target=fingerprint(limited), policy=vip)
    assert load_table().for_key(fingerprint(limited), record.policy).requests_per_minute == 70


def test_a_policy_in_use_by_a_relay_key_cannot_be_deleted():
    team = QuotaPolicy.objects.create(name="team")
    relay_key("holder", team)
    with pytest.raises(ProtectedError):
        team.delete()


def test_changing_a_quota_policy_retires_cached_relay_keys(django_capture_on_commit_callbacks):
    team = QuotaPolicy.objects.create(name="team")
    lookup.clear()
    before = lookup._generation
    with django_capture_on_commit_callbacks(execute=True):
        team.name = "team-renamed"
        team.save()
    assert lookup._generation > before


def test_usage_pages_find_relay_keys_by_the_fingerprint_usage_is_recorded_under():
    team = QuotaPolicy.objects.create(name="team")
    key, secret = relay_key("labelled", team)
    assert relay_keys_by_fingerprint()[fingerprint(secret)] == {
        "id": key.pk, "name": "labelled", "policy": "team", "enabled": True, "kind": "relay"}
