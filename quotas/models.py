"""Quota policies, per-client overrides, the block list, and usage records with daily roll-ups."""
from __future__ import annotations

import ipaddress

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q

UNLIMITED_HELP = "0 means unlimited; blank inherits from the default policy (and its blanks from the settings)."


class QuotaPolicy(models.Model):
    """Limits for a client. Blank fields inherit: policy → default policy → environment settings."""

    name = models.CharField(max_length=80, unique=True)
    is_default = models.BooleanField(
        default=False, help_text="The policy of every client without an override (exactly one)."
    )
    requests_per_minute = models.PositiveIntegerField(null=True, blank=True, help_text=UNLIMITED_HELP)
    tokens_per_minute = models.PositiveIntegerField(null=True, blank=True, help_text=UNLIMITED_HELP)
    daily_token_budget = models.PositiveBigIntegerField(
        null=True, blank=True, help_text="Tokens per UTC day. " + UNLIMITED_HELP
    )
    monthly_token_budget = models.PositiveBigIntegerField(
        null=True, blank=True, help_text="Tokens per UTC calendar month. " + UNLIMITED_HELP
    )
    allowed_models = models.TextField(
        blank=True,
        help_text="Model ids, one per line or comma-separated; `*` allows every model; blank inherits.",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "quota policies"
        ordering = ["-is_default", "name"]
        constraints = [
            models.UniqueConstraint(fields=["is_default"], condition=Q(is_default=True), name="one_default_policy")
        ]

    def __str__(self) -> str:
        return f"{self.name} (default)" if self.is_default else self.name

    def model_list(self) -> list[str] | None:
        """None when blank (inherit); [] when `*` (every model)."""
        items = [m.strip() for m in self.allowed_models.replace(",", "\n").splitlines() if m.strip()]
        if not items:
            return None
        return [] if "*" in items else items


class ClientKind(models.TextChoices):
    IP = "ip", "IP address or network"
    KEY = "key", "API key fingerprint"


def normalise_target(kind: str, target: str) -> str:
    """A CIDR in canonical form, or a lower-case fingerprint; ValidationError when it is neither."""
    target = target.strip()
    if kind == ClientKind.IP:
        try:
            return str(ipaddress.ip_network(target, strict=False))
        except ValueError:
            raise ValidationError({"target": "Enter an IP address or a CIDR such as 10.0.0.0/8."}) from None
    if not target or len(target) > 64 or any(c not in "0123456789abcdef" for c in target.lower()):
        raise ValidationError({"target": "Enter a key fingerprint (hex, as shown in usage), never a raw key."})
    return target.lower()


class ClientRule(models.Model):
    kind = models.CharField(max_length=3, choices=ClientKind.choices, default=ClientKind.IP)
    target = models.CharField(max_length=64, help_text="IP, CIDR (10.0.0.0/8) or key fingerprint.")
    note = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        abstract = True

    def clean(self) -> None:
        self.target = normalise_target(self.kind, self.target)

    def save(self, *args, **kwargs) -> None:
        self.target = normalise_target(self.kind, self.target)
        super().save(*args, **kwargs)

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.target}"


class ClientOverride(ClientRule):
    """Puts an IP, a network or a key under another policy (the most specific network wins)."""

    policy = models.ForeignKey(QuotaPolicy, on_delete=models.CASCADE, related_name="overrides")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["kind", "target"], name="one_override_per_client")]


class BlockedClient(ClientRule):
    """Requests from a blocked IP, network or key are refused with 403 before anything else."""

    class Meta:
        constraints = [models.UniqueConstraint(fields=["kind", "target"], name="one_block_per_client")]


class UsageRecord(models.Model):
    """One /v1/ request: who, what, how many tokens, how it ended."""

    time = models.DateTimeField(db_index=True)
    client_ip = models.CharField(max_length=45, blank=True)
    key_fingerprint = models.CharField(max_length=64, blank=True, db_index=True)
    endpoint = models.CharField(max_length=64)
    model = models.CharField(max_length=128, blank=True)
    prompt_tokens = models.PositiveIntegerField(default=0)
    completion_tokens = models.PositiveIntegerField(default=0)
    credits = models.BigIntegerField(null=True, blank=True, help_text="1min.ai credits, when it said")
    status = models.PositiveSmallIntegerField()
    latency_ms = models.PositiveIntegerField(default=0)
    streamed = models.BooleanField(default=False)
    cut_short = models.BooleanField(default=False, help_text="The client left before the answer ended.")
    unmetered = models.BooleanField(default=False, help_text="Admitted without a limit check (limiter down).")

    class Meta:
        ordering = ["-time"]
        indexes = [models.Index(fields=["client_ip", "time"])]

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


class UsageDaily(models.Model):
    """Per UTC day, client, endpoint, model and status: the sums the dashboard and budgets read."""

    day = models.DateField()
    client_ip = models.CharField(max_length=45, blank=True)
    key_fingerprint = models.CharField(max_length=64, blank=True)
    endpoint = models.CharField(max_length=64)
    model = models.CharField(max_length=128, blank=True)
    status = models.PositiveSmallIntegerField()
    requests = models.PositiveIntegerField(default=0)
    prompt_tokens = models.PositiveBigIntegerField(default=0)
    completion_tokens = models.PositiveBigIntegerField(default=0)
    credits = models.BigIntegerField(default=0)
    streamed = models.PositiveIntegerField(default=0)
    cut_short = models.PositiveIntegerField(default=0)
    latency_ms_total = models.PositiveBigIntegerField(default=0)

    class Meta:
        verbose_name_plural = "usage per day"
        ordering = ["-day"]
        constraints = [
            models.UniqueConstraint(
                fields=["day", "client_ip", "key_fingerprint", "endpoint", "model", "status"],
                name="one_rollup_per_group",
            )
        ]
        indexes = [
            models.Index(fields=["day", "client_ip"]),
            models.Index(fields=["day", "key_fingerprint"]),
        ]


class UsageByIP(UsageDaily):
    """Admin page: usage summed per client IP (no table of its own)."""

    class Meta:
        proxy = True
        verbose_name = verbose_name_plural = "usage by IP"


class UsageByKey(UsageDaily):
    """Admin page: usage summed per API key fingerprint."""

    class Meta:
        proxy = True
        verbose_name = verbose_name_plural = "usage by key"


class UsageDashboard(UsageDaily):
    """Admin page: charts of requests, tokens and errors over time, top IPs and models."""

    class Meta:
        proxy = True
        verbose_name = verbose_name_plural = "usage dashboard"
