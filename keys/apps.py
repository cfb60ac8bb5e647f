"""Relay keys and the upstream key pool."""
from django.apps import AppConfig


class KeysConfig(AppConfig):
    name = "keys"
    verbose_name = "Relay keys and upstream keys"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from keys import checks, signals  # noqa: F401 - registers the checks and receivers
