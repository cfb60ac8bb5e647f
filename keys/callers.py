"""Who is calling: the one place a presented key becomes an upstream key, an identity, allowed
models and a quota policy, according to RELAY_AUTH_MODE (and AUTH_TOKEN in passthrough)."""
from __future__ import annotations

import hmac
from dataclasses import dataclass, field
from datetime import datetime, timezone

from django.conf import settings

from core.identity import fingerprint
from core.errors import AuthenticationFailed
from core.upstream_key import UpstreamKey
from keys import crypto
from keys.activity import activity
from keys.failed_lookups import failed_lookups
from keys.lookup import UNCHECKED, KeyRecord, lookup
from keys.pool import PoolLease, model_not_allowed, pool
from keys.shared_state import watch


@dataclass(frozen=True)
class Caller:
    # What 1min.ai is sent; for a relay key it holds the pool lease (failover). Never in a repr or a log.
    upstream_key: UpstreamKey = field(repr=False)
    fingerprint: str  # identity for limits and usage; never the key itself
    relay_key: KeyRecord | None = None  # None: the client's own 1min.ai key (passthrough)

    @property
    def policy(self) -> str:
        """Quota policy name; blank means the default policy."""
        return self.relay_key.policy if self.relay_key else ""

    @property
    def allowed_models(self) -> tuple[str, ...]:
        return self.relay_key.allowed_models if self.relay_key else ()

    def may_use(self, model: str) -> bool:
        return not self.allowed_models or model in self.allowed_models

    def check_model(self, model: str) -> None:
        """403 in the OpenAI envelope when this caller may not use `model`."""
        if not self.may_use(model):
            raise model_not_allowed(model)



def _missing_key_message(mode: str) -> str:
    what = {
        "passthrough": "your 1min.ai key",
        "managed": "your relay key",
        "both": "your relay key or your 1min.ai key",
    }[mode]
    return f"You didn't provide an API key. Send {what} as `Authorization: Bearer KEY`."


async def resolve_caller(presented: str | None, client: str = "") -> Caller:
    """The caller behind a presented key, or AuthenticationFailed (401) in the OpenAI envelope;
    `client` (keys.failed_lookups) is refused with a 429 once its failed lookups pass the limit."""
    mode = settings.RELAY_AUTH_MODE
    if not presented:
        raise AuthenticationFailed(_missing_key_message(mode))
    if mode == "passthrough" or (mode == "both" and not crypto.is_relay_key(presented)):
        token = settings.AUTH_TOKEN  # passthrough only (relay.E041): the one key let through
        if token and not hmac.compare_digest(presented.encode(), token.encode()):
            raise AuthenticationFailed("Incorrect API key provided. This relay accepts one key only.")
        return Caller(UpstreamKey(presented), fingerprint(presented))
    if not crypto.is_relay_key(presented):
        raise AuthenticationFailed(
            "This relay accepts only relay keys (they start with `rk-`); ask its operator for one."
        )
    record = await _find(presented, client)
    activity.relay_key_used(record.id)
    lease = PoolLease(pool, record.allowed_models)
    await pool.entries()  # so the key below is a real one; the lease may still change it
    return Caller(UpstreamKey(pool.first_secret(), lease), record.fingerprint, record)


async def _look_up(key_hash: str, client: str) -> KeyRecord | None:
    """The caches first; SQL only for a client under its failed-lookup limit, charged in advance
    (so a burst of guesses in flight cannot pass it) and refunded when the key exists."""
    charged = False

    async def may_load() -> bool:
        nonlocal charged
        if failed_lookups.refused(client):
            return False
        charged = True
        return await failed_lookups.charge(client)

    record = await lookup.find(key_hash, watch.version, may_load)
    if record is UNCHECKED:
        raise failed_lookups.refusal(client)
    if charged and record is not None:
        await failed_lookups.refund(client)
    elif not charged and record is None:
        await _failed_without_lookup(client)  # a key the caches know to be unknown
    return record


async def _failed_without_lookup(client: str) -> None:
    if failed_lookups.refused(client):
        raise failed_lookups.refusal(client)
    await failed_lookups.failed(client)


async def _find(presented: str, client: str) -> KeyRecord:
    if await watch.changed():
        lookup.clear()
        pool.mark_stale()
    if crypto.well_formed(presented):
        record = await _look_up(crypto.hash_key(presented), client)
    else:
        record = None
        await _failed_without_lookup(client)
    if record is None:
        raise AuthenticationFailed("Incorrect API key provided. Check the relay key you sent.")
    if not record.enabled:
        raise AuthenticationFailed("This relay key has been revoked.")
    if record.is_expired():
        when = datetime.fromtimestamp(record.expires_at or 0, timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
        raise AuthenticationFailed(f"This relay key expired on {when}.")
    return record
