"""manage.py refresh_models: fetch 1min.ai's model catalogue now, store it in the shared cache and tell
every relay process to read it at once (core.broadcast; without REDIS_URL the server's own copy
expires after MODEL_CACHE_MEMORY_SECONDS)."""
import asyncio
from collections import Counter

from django.core.management.base import BaseCommand, CommandError

from core import broadcast
from core.errors import UpstreamError
from api.model_registry import MODELS, registry
from api.translators.models import FEATURE_NAMES


class Command(BaseCommand):
    help = "Refresh the cached model list from 1min.ai and print how many models each feature has."

    def handle(self, *args, **options):
        try:
            snapshot = asyncio.run(registry.refresh())
        except UpstreamError as error:
            raise CommandError(f"Could not refresh the model list: {error.message}") from None
        broadcast.announce(MODELS)
        counts: Counter[str] = Counter()
        disabled = 0
        for entry in snapshot.models.values():
            if entry["status"] != "ACTIVE":
                disabled += 1
                continue
            counts.update(entry["features"])
        for feature, name in FEATURE_NAMES.items():
            self.stdout.write(f"{name:<17} {models(counts.get(feature, 0)):>11} ({feature})")
        return f"Done! {models(len(snapshot.models) - disabled, 'active')} cached, {disabled} disabled left out."


def models(count: int, adjective: str = "") -> str:
    return f"{count} {adjective + ' ' if adjective else ''}model{'' if count == 1 else 's'}"
