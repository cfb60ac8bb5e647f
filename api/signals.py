"""Alias changes, once committed, reach every process; `migrate` seeds MODEL_ALIASES."""
from __future__ import annotations

from django.db import transaction
from django.db.models.signals import post_delete, post_migrate, post_save
from django.dispatch import receiver

from api import model_aliases
from api.models import ModelAlias


@receiver(post_save, sender=ModelAlias)
@receiver(post_delete, sender=ModelAlias)
def alias_changed(sender, **kwargs) -> None:
    transaction.on_commit(model_aliases.announce_change)


def seed_after_migrate(sender, **kwargs) -> None:
    """So the admin lists the seeds right after a deployment's `migrate`, before any API call."""
    model_aliases.seed_from_settings()


def connect() -> None:
    from django.apps import apps

    post_migrate.connect(seed_after_migrate, sender=apps.get_app_config("api"),
                         dispatch_uid="api.seed_model_aliases")
