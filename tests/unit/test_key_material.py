"""Relay key material, Fernet storage of 1min.ai keys, the start-up checks and the auth modes."""
import asyncio
from datetime import datetime, timezone

import pytest
from cryptography.fernet import Fernet

from core.identity import fingerprint
from core.errors import AuthenticationFailed
from core.upstream_key import UpstreamKey
from keys import crypto
from keys.callers import resolve_caller
from keys.checks import encryption_key_check
from keys.management.commands.create_relay_key import parse_expiry
from keys.models import parse_model_list


def test_a_relay_key_has_256_random_bits_and_its_hash_starts_with_its_fingerprint():
    key = crypto.new_relay_key()
    assert crypto.well_formed(key) and crypto.is_relay_key(key)
    assert len(key) == 46 and key != crypto.new_relay_key()
    assert crypto.hash_key(key)[:32] == fingerprint(key)
    assert crypto.display_prefix(key) == key[:9]


@pytest.mark.parametrize("presented", ["rk-short", "rk-" + "x" * 44, "rk-" + "!" * 43, "sk-" + "x" * 43, ""])
def test_anything_not_shaped_like_a_relay_key_is_not_looked_up(presented):
    assert not crypto.well_formed(presented)


def test_1min_keys_are_stored_encrypted_and_shown_masked(settings):
    settings.RELAY_ENCRYPTION_KEY = Fernet.generate_key().decode()
    token = crypto.encrypt("one-min-secret-9876")
    assert "one-min-secret" not in token and crypto.decrypt(token) == "one-min-secret-9876"
    assert crypto.mask("one-min-secret-9876") == "••••••••9876"
    assert crypto.mask("short") == "••••••••"


def test_a_new_encryption_key_can_be_rolled_in_front_of_the_old_one(settings):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.RELAY_ENCRYPTION_KEY = old
    token = crypto.encrypt("kept-across-rotation")
    settings.RELAY_ENCRYPTION_KEY = f"{new},{old}"
    assert crypto.decrypt(token) == "kept-across-rotation"
    settings.RELAY_ENCRYPTION_KEY = new
    with pytest.raises(crypto.UndecryptableKey):
        crypto.decrypt(token)


@pytest.mark.parametrize("mode, key, ids", [
    ("passthrough", "", []),
    ("managed", "", ["keys.E001"]),
    ("both", "", ["keys.E001"]),
    ("managed", Fernet.generate_key().decode(), []),
    ("passthrough", "not-a-fernet-key", ["keys.E002"]),
    ("both", "not-a-fernet-key", ["keys.E002"]),
])
def test_a_missing_or_broken_encryption_key_fails_the_system_check(settings, mode, key, ids):
    settings.RELAY_AUTH_MODE, settings.RELAY_ENCRYPTION_KEY = mode, key
    errors = encryption_key_check()
    assert [e.id for e in errors] == ids
    assert all("Fernet.generate_key()" in e.hint for e in errors)


@pytest.mark.parametrize("text, expected", [
    ("2030-01-31", datetime(2030, 2, 1, tzinfo=timezone.utc)),
    ("2030-01-31T12:30:00+02:00", datetime(2030, 1, 31, 10, 30, tzinfo=timezone.utc)),
    ("2030-01-31 12:30", datetime(2030, 1, 31, 12, 30, tzinfo=timezone.utc)),
])
def test_an_expiry_date_means_the_key_works_through_that_day(text, expected):
    assert parse_expiry(text) == expected


def test_allowed_models_are_read_from_commas_spaces_or_lines():
    assert parse_model_list("gpt-4o, gpt-4o-mini\nclaude gpt-4o") == ["gpt-4o", "gpt-4o-mini", "claude"]
    assert parse_model_list("") == []


@pytest.mark.parametrize("mode, presented", [
    ("passthrough", "sk-own-key"),
    ("passthrough", "rk-" + "a" * 43),  # passthrough mode has no relay keys at all
    ("both", "sk-own-key"),
])
def test_keys_that_are_not_relay_keys_pass_through_unchanged(settings, mode, presented):
    settings.RELAY_AUTH_MODE = mode
    caller = asyncio.run(resolve_caller(presented))
    assert caller.upstream_key == UpstreamKey(presented) and caller.fingerprint == fingerprint(presented)
    assert caller.relay_key is None and caller.may_use("anything")
    assert presented not in repr(caller)  # a logged caller never shows the key


@pytest.mark.parametrize("mode, presented, words", [
    ("managed", "sk-own-key", "only relay keys"),
    ("managed", "", "your relay key"),
    ("both", "", "your relay key or your 1min.ai key"),
    ("passthrough", "", "your 1min.ai key"),
])
def test_managed_mode_refuses_other_keys_and_every_mode_names_the_key_it_wants(settings, mode, presented, words):
    settings.RELAY_AUTH_MODE = mode
    with pytest.raises(AuthenticationFailed) as refused:
        asyncio.run(resolve_caller(presented))
    assert words in refused.value.message and refused.value.status == 401
