"""Limits, quotas and usage accounting."""
from django.apps import AppConfig
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

FAIL_MODES = ("open", "closed")


class QuotasConfig(AppConfig):
    name = "quotas"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from core import broadcast
        from quotas import checks, signals  # noqa: F401 - registers the checks and policy-change announcements
        from quotas.client_identity import trusted_networks
        from quotas.policies import POLICIES, book

        broadcast.on(POLICIES, book.changed_here)  # a change anywhere: re-read the tables on the next request

        # A bad value stops daphne at start-up instead of failing requests later.
        trusted_networks()
        if settings.RATE_LIMIT_FAIL_MODE not in FAIL_MODES:
            raise ImproperlyConfigured(
                f"RATE_LIMIT_FAIL_MODE must be open or closed, not {settings.RATE_LIMIT_FAIL_MODE!r}"
            )
