"""The policy table: inheritance, the most specific override, blocks, and seeing changes."""
import asyncio

import pytest

from quotas.models import BlockedClient, ClientOverride, QuotaPolicy
from quotas.policies import PolicyBook, load_table

pytestmark = pytest.mark.django_db


@pytest.fixture
def defaults(settings):
    settings.RATE_LIMIT_REQUESTS_PER_MINUTE = 180
    settings.RATE_LIMIT_TOKENS_PER_MINUTE = 100_000
    settings.RATE_LIMIT_DAILY_TOKENS = 0
    settings.RATE_LIMIT_MONTHLY_TOKENS = 0
    settings.RATE_LIMIT_ALLOWED_MODELS = []


def test_the_seeded_default_policy_follows_the_settings(defaults):
    assert QuotaPolicy.objects.get(is_default=True).name == "default"
    table = load_table()
    assert (table.default.requests_per_minute, table.default.tokens_per_minute) == (180, 100_000)
    assert table.default.models is None and table.for_ip("1.2.3.4") is table.default


def test_blank_fields_inherit_from_the_default_policy_and_its_blanks_from_the_settings(defaults):
    QuotaPolicy.objects.filter(is_default=True).update(tokens_per_minute=5000, allowed_models="gpt-4o-mini\no3")
    QuotaPolicy.objects.create(name="team", requests_per_minute=1000, daily_token_budget=0)
    ClientOverride.objects.create(kind="key", target="ab" * 16, policy=QuotaPolicy.objects.get(name="team"))
    limits = load_table().for_key("ab" * 16)
    assert (limits.policy, limits.requests_per_minute, limits.tokens_per_minute, limits.daily_tokens) == ("team", 1000, 5000, 0)
    assert limits.models == frozenset({"gpt-4o-mini", "o3"})
    assert limits.allows("o3") and not limits.allows("gpt-4o")


def test_a_star_allows_every_model_even_when_the_default_restricts(defaults):
    QuotaPolicy.objects.filter(is_default=True).update(allowed_models="gpt-4o-mini")
    open_policy = QuotaPolicy.objects.create(name="open", allowed_models="*")
    ClientOverride.objects.create(kind="ip", target="10.0.0.0/8", policy=open_policy)
    assert load_table().for_ip("10.1.1.1").models is None


def test_the_most_specific_network_wins(defaults):
    wide = QuotaPolicy.objects.create(name="wide", requests_per_minute=10)
    narrow = QuotaPolicy.objects.create(name="narrow", requests_per_minute=20)
    ClientOverride.objects.create(kind="ip", target="10.0.0.0/8", policy=wide)
    ClientOverride.objects.create(kind="ip", target="10.1.0.0/16", policy=narrow)
    table = load_table()
    assert table.for_ip("10.1.2.3").policy == "narrow"
    assert table.for_ip("10.2.2.3").policy == "wide"
    assert table.for_ip("192.0.2.1").policy == "default"


def test_blocks_name_networks_and_keys(defaults):
    BlockedClient.objects.create(kind="ip", target="203.0.113.0/24", note="scraper")
    BlockedClient.objects.create(kind="key", target="CD" * 16)
    table = load_table()
    assert table.block_reason("203.0.113.77", None) == "scraper"
    assert table.block_reason("198.51.100.1", "cd" * 16) == ""
    assert table.block_reason("198.51.100.1", "ef" * 16) is None


def test_targets_are_stored_canonical_and_raw_keys_are_refused():
    from django.core.exceptions import ValidationError

    assert BlockedClient.objects.create(kind="ip", target=" 10.1.2.3/8 ").target == "10.0.0.0/8"
    with pytest.raises(ValidationError):
        BlockedClient(kind="key", target="sk-live-not-a-fingerprint").save()


@pytest.mark.django_db(transaction=True)  # the book reads from a worker thread
def test_a_change_made_in_this_process_is_seen_by_the_next_request(defaults, django_capture_on_commit_callbacks):
    book = PolicyBook()
    assert asyncio.run(book.current()).block_reason("192.0.2.9", None) is None
    with django_capture_on_commit_callbacks(execute=True):
        BlockedClient.objects.create(kind="ip", target="192.0.2.9")
    book.changed_here()  # what the signal did for the module-level book
    assert asyncio.run(book.current()).block_reason("192.0.2.9", None) == ""
