"""Any saved or deleted policy, override or block is announced to every process."""
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from quotas.models import BlockedClient, ClientOverride, QuotaPolicy
from quotas.policies import announce_change


@receiver([post_save, post_delete], sender=QuotaPolicy)
@receiver([post_save, post_delete], sender=ClientOverride)
@receiver([post_save, post_delete], sender=BlockedClient)
def policy_changed(sender, **kwargs) -> None:
    # After the commit: a process that reloaded earlier would see the old rows and keep them.
    transaction.on_commit(announce_change)
