"""Every saved or deleted relay or upstream key bumps the shared change counter once committed,
so each process drops its cached copies within RELAY_KEY_SYNC_SECONDS."""
from __future__ import annotations

import logging

from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from keys.models import RelayKey, UpstreamKey
from keys.shared_state import SharedStateError, bump_version

logger = logging.getLogger(__name__)


def _bump() -> None:
    try:
        bump_version()
    except SharedStateError as error:
        logger.warning("could not announce a key change (%s); it applies on cache expiry", error)


@receiver(post_save, sender=RelayKey)
@receiver(post_delete, sender=RelayKey)
@receiver(post_save, sender=UpstreamKey)
@receiver(post_delete, sender=UpstreamKey)
def keys_changed(sender, **kwargs) -> None:
    transaction.on_commit(_bump)
