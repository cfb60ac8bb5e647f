"""Relay keys (stored as SHA-256 hashes) and upstream 1min.ai keys (stored Fernet-encrypted)."""
from __future__ import annotations

import re

from django.db import models
from django.utils import timezone

from keys import crypto


def parse_model_list(text: str) -> list[str]:
    """Model ids from text separated by commas, spaces or new lines, in order, without repeats."""
    seen: dict[str, None] = {}
    for item in re.split(r"[\s,]+", text or ""):
        if item:
            seen.setdefault(item, None)
    return list(seen)


class RelayKey(models.Model):
    """A key the operator hands to a client. The key itself is shown once and never stored."""

    name = models.CharField(max_length=100)
    owner_note = models.TextField(blank=True, help_text="Who holds this key and why.")
    prefix = models.CharField(
        max_length=16, editable=False, help_text="The key's first characters, to recognise it."
    )
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    quota_policy = models.ForeignKey(
        "quotas.QuotaPolicy",
        null=True,
        blank=True,
        on_delete=models.PROTECT,  # deleting a policy in use would silently loosen these keys
        related_name="relay_keys",
        help_text="Limits for this key (blank: the default policy). A policy assigned to the key's "
        "fingerprint on the usage pages takes precedence.",
    )
    allowed_models = models.TextField(
        blank=True,
        help_text="Model ids this key may use, one per line or comma-separated. Blank: every model.",
    )
    expires_at = models.DateTimeField(null=True, blank=True, help_text="Blank: never expires.")
    enabled = models.BooleanField(default=True, help_text="Untick to revoke the key.")
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def fingerprint(self) -> str:
        """The identity its calls carry in limits and usage (core.identity.fingerprint)."""
        return self.key_hash[:32]

    def set_new_key(self) -> str:
        """Give this record a fresh key; returns the full key, which the caller shows once."""
        key = crypto.new_relay_key()
        self.key_hash = crypto.hash_key(key)
        self.prefix = crypto.display_prefix(key)
        return key

    def model_list(self) -> list[str]:
        return parse_model_list(self.allowed_models)

    def is_expired(self, now=None) -> bool:
        return self.expires_at is not None and self.expires_at <= (now or timezone.now())


class UpstreamKey(models.Model):
    """A 1min.ai key in the pool, encrypted with RELAY_ENCRYPTION_KEY; shown only masked."""

    label = models.CharField(max_length=100)
    note = models.TextField(blank=True)
    encrypted_key = models.TextField(editable=False)
    fingerprint = models.CharField(max_length=32, unique=True, editable=False)
    enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # Written off the request path by keys.activity, a few seconds behind.
    requests = models.PositiveBigIntegerField(default=0, editable=False)
    failures = models.PositiveBigIntegerField(default=0, editable=False)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_failure_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_failure_reason = models.CharField(max_length=40, blank=True, editable=False)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.label

    def set_secret(self, secret: str) -> None:
        from core.identity import fingerprint

        self.encrypted_key = crypto.encrypt(secret)
        self.fingerprint = fingerprint(secret)

    def secret(self) -> str:
        return crypto.decrypt(self.encrypted_key)


class KeyName(models.Model):
    """The operator's name for a pass-through key (a client's own 1min.ai key), stored by its
    fingerprint: the relay never stores such a key, so usage knows it only by that fingerprint."""

    fingerprint = models.CharField(
        max_length=32, unique=True,
        help_text="The key's fingerprint as the usage pages show it (32 hex characters), never the key itself.")
    name = models.CharField(max_length=100)
    note = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = "pass-through key name"

    def __str__(self) -> str:
        return f"{self.name} ({self.fingerprint[:12]}…)"

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        self.fingerprint = (self.fingerprint or "").strip().lower()
        if len(self.fingerprint) != 32 or any(c not in "0123456789abcdef" for c in self.fingerprint):
            raise ValidationError({"fingerprint": "Enter the key's 32-character fingerprint as the usage pages "
                                                  "show it, never the key itself."})


def relay_key_fingerprints_named(text: str) -> list[str]:
    """Fingerprints of the relay keys and named pass-through keys whose name contains `text`."""
    relay = [key_hash[:32] for key_hash in RelayKey.objects.filter(name__icontains=text).values_list("key_hash", flat=True)]
    return relay + list(KeyName.objects.filter(name__icontains=text).values_list("fingerprint", flat=True))


def relay_keys_by_fingerprint() -> dict[str, dict]:
    """Every relay key and named pass-through key by the fingerprint its usage is recorded under.
    For the usage pages, which know callers only by fingerprint (the shape core.key_labels names)."""
    labels = {
        fp: {"id": pk, "name": name, "policy": "", "enabled": True, "kind": "pass-through"}
        for pk, fp, name in KeyName.objects.values_list("pk", "fingerprint", "name")
    }
    rows = RelayKey.objects.values_list("pk", "name", "key_hash", "quota_policy__name", "enabled")
    labels.update({
        key_hash[:32]: {"id": pk, "name": name, "policy": policy or "", "enabled": enabled, "kind": "relay"}
        for pk, name, key_hash, policy, enabled in rows
    })
    return labels
