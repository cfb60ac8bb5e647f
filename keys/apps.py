"""Relay keys and the upstream key pool."""
from django.apps import AppConfig


class KeysConfig(AppConfig):
    name = "keys"
    verbose_name = "Relay keys and upstream keys"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from core import broadcast, key_labels
        from keys import checks, signals  # noqa: F401 - registers the checks and receivers
        from keys.models import relay_key_fingerprints_named, relay_keys_by_fingerprint

        broadcast.on(signals.KEYS, signals.drop_cached_keys)

        # The usage pages (quotas) name keys through core, so quotas never imports keys.
        key_labels.register(relay_keys_by_fingerprint, relay_key_fingerprints_named)
