"""A relay key's own quota policy in the policy table, and what changing keys announces."""
import pytest
from django.db.models import ProtectedError

from api.client_key import fingerprint
from keys.models import RelayKey, relay_keys_by_fingerprint
from quotas.models import ClientOverride, QuotaPolicy
from quotas.policies import book, load_table

pytestmark = pytest.mark.django_db


def relay_key(name: str, policy: QuotaPolicy | None = None) -> tuple[RelayKey, str]:
    key = RelayKey(name=name, quota_policy=policy)
    secret = key.set_new_key()
    key.save()
    return key, secret


def test_a_relay_key_brings_its_own_policy_and_a_fingerprint_override_wins():
    team = QuotaPolicy.objects.create(name="team", requests_per_minute=7)
    vip = QuotaPolicy.objects.create(name="vip", requests_per_minute=70)
    _, limited = relay_key("limited", team)
    _, plain = relay_key("plain")
    table = load_table()
    assert table.for_key(fingerprint(limited)).requests_per_minute == 7
    assert table.for_key(fingerprint(plain)) is table.default
    ClientOverride.objects.create(kind="key", target=fingerprint(limited), policy=vip)
    assert load_table().for_key(fingerprint(limited)).requests_per_minute == 70


def test_a_policy_in_use_by_a_relay_key_cannot_be_deleted():
    team = QuotaPolicy.objects.create(name="team")
    relay_key("holder", team)
    with pytest.raises(ProtectedError):
        team.delete()


def test_changing_a_relay_key_tells_the_policy_table(django_capture_on_commit_callbacks):
    before = book._local_changes
    with django_capture_on_commit_callbacks(execute=True):
        relay_key("announced")
    assert book._local_changes > before


def test_usage_pages_find_relay_keys_by_the_fingerprint_usage_is_recorded_under():
    team = QuotaPolicy.objects.create(name="team")
    key, secret = relay_key("labelled", team)
    assert relay_keys_by_fingerprint()[fingerprint(secret)] == {
        "id": key.pk, "name": "labelled", "policy": "team", "enabled": True}
