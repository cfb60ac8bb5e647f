"""Deployment checks for the quotas (`manage.py check`): settings that would make limits inexact."""
from __future__ import annotations

import os

from django.conf import settings
from django.core.checks import Tags, Warning, register


@register(Tags.compatibility)
def counters_are_shared(app_configs, **kwargs):
    """Several worker processes without Redis would each count on their own."""
    workers = os.environ.get("WEB_CONCURRENCY", "1")
    if settings.RATE_LIMITS_ENABLED and not settings.REDIS_URL and workers.isdigit() and int(workers) > 1:
        return [Warning(
            f"{workers} worker processes count rate limits separately without Redis.",
            hint="Set REDIS_URL so every process shares exact counters (or run one worker).",
            id="quotas.W001",
        )]
    return []
