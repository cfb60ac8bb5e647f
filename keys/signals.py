"""Every saved or deleted relay key, upstream key or quota policy, once committed, drops this
process's cached keys at once and bumps the shared change counter, so other processes drop theirs
within RELAY_KEY_SYNC_SECONDS."""
from __future__ import annotations

import logging

from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from keys.lookup import lookup
from keys.models import RelayKey, UpstreamKey
from keys.pool import pool
from keys.shared_state import SharedStateError, bump_version, watch
from quotas.models import QuotaPolicy

logger = logging.getLogger(__name__)


def _bump() -> None:
    lookup.clear()
    pool.mark_stale()
    try:
        bump_version()
    except SharedStateError as error:
        logger.warning("could not announce a key change (%s); it applies on cache expiry", error)
    watch.recheck()  # so this process's next lookup uses the new counter, not old shared entries


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
