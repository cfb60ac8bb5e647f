"""The policy table as each process sees it: loaded from the database, refreshed at once on a change.

Requests never query SQL: they read an in-process snapshot. A change (admin, command) is announced
on core.broadcast's topic POLICIES, which makes every process re-read the tables on its next
request. As a fallback when the signal is lost, a process also re-reads when the shared version
counter (bumped on every change) moves, checked at most every QUOTA_POLICY_REFRESH_SECONDS;
without Redis it simply re-reads on that period.
"""
from __future__ import annotations

import asyncio
import ipaddress
import logging
import time
from dataclasses import dataclass, field

from django.conf import settings

from core import broadcast
from core.db_thread import run_db
from quotas import shared_redis
from quotas.client_identity import IPNetwork, parse_address

logger = logging.getLogger(__name__)
VERSION_KEY = "quotas:policy-version"
POLICIES = "quotas.policies"  # the core.broadcast topic: policies, overrides or blocks changed
MAX_STALENESS_SECONDS = 60.0  # re-read even when no change was announced (a lost bump)


@dataclass(frozen=True)
class Limits:
    """One client's effective limits; 0 means unlimited, `models` None means every model."""

    policy: str
    requests_per_minute: int
    tokens_per_minute: int
    daily_tokens: int
    monthly_tokens: int
    models: frozenset[str] | None

    def allows(self, model: str) -> bool:
        return self.models is None or model in self.models


@dataclass
class PolicyTable:
    default: Limits
    networks: list[tuple[IPNetwork, Limits]] = field(default_factory=list)  # most specific first
    keys: dict[str, Limits] = field(default_factory=dict)
    blocked_networks: list[tuple[IPNetwork, str]] = field(default_factory=list)
    blocked_keys: dict[str, str] = field(default_factory=dict)

    def for_ip(self, ip: str) -> Limits:
        found = _most_specific(self.networks, ip)
        return found[1] if found else self.default

    def override_for_ip(self, ip: str) -> str | None:
        """The network (CIDR) whose override `for_ip` applies to this address, or None."""
        found = _most_specific(self.networks, ip)
        return str(found[0]) if found else None

    named: dict[str, Limits] = field(default_factory=dict)

    def for_key(self, fingerprint: str, policy: str = "") -> Limits:
        """An override for this key first, then the policy its relay key names, then the default."""
        limits = self.keys.get(fingerprint)
        if limits is not None:
            return limits
        return self.named.get(policy, self.default) if policy else self.default

    def block_reason(self, ip: str, fingerprint: str | None) -> str | None:
        """Why this client is blocked ("" when no reason was given), or None when it is not."""
        found = self.block(ip, fingerprint)
        return found[1] if found else None

    def block(self, ip: str, fingerprint: str | None) -> tuple[str, str] | None:
        """The block that refuses this client: (its target, a fingerprint or CIDR; its reason)."""
        if fingerprint and fingerprint in self.blocked_keys:
            return fingerprint, self.blocked_keys[fingerprint]
        found = _most_specific(self.blocked_networks, ip)
        return (str(found[0]), found[1]) if found else None


def _most_specific(rules: list, ip: str):
    """The first (network, value) whose network holds `ip` (rules are kept most specific first)."""
    if not rules:
        return None
    address = parse_address(ip)
    if address is not None:
        for network, value in rules:
            if address.version == network.version and address in network:
                return network, value
    return None


def settings_limits() -> Limits:
    models = settings.RATE_LIMIT_ALLOWED_MODELS
    return Limits(
        policy="settings",
        requests_per_minute=settings.RATE_LIMIT_REQUESTS_PER_MINUTE,
        tokens_per_minute=settings.RATE_LIMIT_TOKENS_PER_MINUTE,
        daily_tokens=settings.RATE_LIMIT_DAILY_TOKENS,
        monthly_tokens=settings.RATE_LIMIT_MONTHLY_TOKENS,
        models=frozenset(models) if models and "*" not in models else None,
    )


def resolve(policy, base: Limits) -> Limits:
    """A QuotaPolicy row's limits, its blank fields taken from `base`."""
    models = policy.model_list()

    def pick(value, inherited):
        return inherited if value is None else value

    return Limits(
        policy=policy.name,
        requests_per_minute=pick(policy.requests_per_minute, base.requests_per_minute),
        tokens_per_minute=pick(policy.tokens_per_minute, base.tokens_per_minute),
        daily_tokens=pick(policy.daily_token_budget, base.daily_tokens),
        monthly_tokens=pick(policy.monthly_token_budget, base.monthly_tokens),
        models=base.models if models is None else (frozenset(models) if models else None),
    )


def load_table() -> PolicyTable:
    """Read every policy, override and block (sync ORM: call it off the event loop)."""
    from quotas.models import BlockedClient, ClientKind, ClientOverride, QuotaPolicy

    policies = list(QuotaPolicy.objects.all())
    default_row = next((p for p in policies if p.is_default), None)
    default = resolve(default_row, settings_limits()) if default_row else settings_limits()
    resolved = {p.pk: (default if p.is_default else resolve(p, default)) for p in policies}
    table = PolicyTable(default, named={p.name: resolved[p.pk] for p in policies})
    for override in ClientOverride.objects.all():
        limits = resolved[override.policy_id]
        if override.kind == ClientKind.IP:
            table.networks.append((ipaddress.ip_network(override.target, strict=False), limits))
        else:
            table.keys[override.target] = limits
    table.networks.sort(key=lambda item: item[0].prefixlen, reverse=True)
    for block in BlockedClient.objects.all():
        if block.kind == ClientKind.IP:
            table.blocked_networks.append((ipaddress.ip_network(block.target, strict=False), block.note))
        else:
            table.blocked_keys[block.target] = block.note
    table.blocked_networks.sort(key=lambda item: item[0].prefixlen, reverse=True)
    return table


class PolicyBook:
    """This process's snapshot of the policy table and when to look again."""

    def __init__(self) -> None:
        self._table: PolicyTable | None = None
        self._version: bytes | None = None
        self._loaded_at = 0.0
        self._check_after = 0.0
        self._local_changes = 0
        self._seen_local_changes = 0
        self._inflight: asyncio.Task[PolicyTable] | None = None

    def reset(self) -> None:
        self.__init__()

    def changed_here(self) -> None:
        """A change made in this process (the admin) is seen by its very next request."""
        self._local_changes += 1

    async def current(self) -> PolicyTable:
        now = time.monotonic()
        if self._table is not None and now < self._check_after and self._seen_local_changes == self._local_changes:
            return self._table
        loop = asyncio.get_running_loop()
        if self._inflight is None or self._inflight.done() or self._inflight.get_loop() is not loop:
            self._inflight = loop.create_task(self._refresh(now))
        return await asyncio.shield(self._inflight)

    async def _refresh(self, now: float) -> PolicyTable:
        local = self._local_changes
        version = await shared_redis.get(VERSION_KEY)
        fresh = (
            self._table is not None
            and local == self._seen_local_changes
            and version is not None
            and version == self._version
            and now - self._loaded_at < MAX_STALENESS_SECONDS
        )
        if not fresh:
            try:
                self._table = await run_db(load_table)
                self._loaded_at = now
            except Exception:  # noqa: BLE001 - a database hiccup keeps the last table
                logger.exception("could not load the quota policies; keeping the previous ones")
                if self._table is None:
                    self._table = PolicyTable(settings_limits())
        self._version = version
        self._seen_local_changes = local
        self._check_after = time.monotonic() + settings.QUOTA_POLICY_REFRESH_SECONDS
        return self._table


book = PolicyBook()


def announce_change() -> None:
    """Tell every process the tables changed (called from model signals, in sync code)."""
    shared_redis.incr_sync(VERSION_KEY)  # first: a process that misses the signal still sees this
    broadcast.announce(POLICIES)  # runs book.changed_here here and in every other process
