"""Every saved or deleted relay key, upstream key, key name or quota policy, once committed, bumps
the shared change counter and is announced on core.broadcast's topic KEYS: every process drops its
cached keys at once (and, should the signal be lost, within RELAY_KEY_SYNC_SECONDS of the counter)."""
from __future__ import annotations

import logging

from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from core import broadcast
from keys.lookup import lookup
from keys.models import RelayKey, UpstreamKey
from keys.pool import pool
from keys.shared_state import SharedStateError, bump_version, watch
from quotas.models import QuotaPolicy

logger = logging.getLogger(__name__)
KEYS = "keys"  # the core.broadcast topic: relay keys, upstream keys or their policies changed


def drop_cached_keys() -> None:
    """This process's handler for KEYS (registered in KeysConfig.ready)."""
    lookup.clear()
    pool.mark_stale()
    watch.recheck()  # so the next lookup uses the new counter, not old shared entries


def _bump() -> None:
    try:
        bump_version()  # first: entries in the shared store are named by this counter
    except SharedStateError as error:
        logger.warning("could not bump the key change counter (%s); it applies on cache expiry", error)
    broadcast.announce(KEYS)


@receiver(post_save, sender=RelayKey)
@receiver(post_delete, sender=RelayKey)
@receiver(post_save, sender=UpstreamKey)
@receiver(post_delete, sender=UpstreamKey)
def keys_changed(sender, **kwargs) -> None:
    transaction.on_commit(_bump)


@receiver(post_save, sender=QuotaPolicy)
@receiver(post_delete, sender=QuotaPolicy)
def quota_policy_changed(sender, **kwargs) -> None:
    # Cached relay keys carry their policy's name (quotas looks limits up by it): a renamed
    # policy must not leave them pointing at a name that no longer exists.
    transaction.on_commit(_bump)
