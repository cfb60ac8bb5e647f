"""`manage.py create_relay_key --name NAME`: make a relay key and print it, the only time it is shown."""
from __future__ import annotations

from datetime import datetime, time, timedelta, timezone

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils.dateparse import parse_date, parse_datetime

from core import audit, known_models
from keys.models import RelayKey, parse_model_list
from quotas.models import QuotaPolicy


def parse_expiry(text: str) -> datetime:
    """YYYY-MM-DD: the key works through that day (UTC). An ISO date-time is taken as it is."""
    day = parse_date(text)
    if day is not None:
        return datetime.combine(day + timedelta(days=1), time.min, tzinfo=timezone.utc)
    try:
        moment = parse_datetime(text)
    except ValueError:
        moment = None
    if moment is None:
        raise CommandError(f"--expires must be YYYY-MM-DD or an ISO date-time, not {text!r}.")
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def quota_policy(name: str) -> QuotaPolicy:
    policy = QuotaPolicy.objects.filter(name=name).first()
    if policy is None:
        known = ", ".join(QuotaPolicy.objects.values_list("name", flat=True)) or "none"
        raise CommandError(f"No quota policy named {name!r} (there are: {known}).")
    return policy


class Command(BaseCommand):
    help = "Create a relay key for a client; prints the full key once (only a hash is stored)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--name", required=True, help="Who or what the key is for.")
        parser.add_argument("--owner-note", default="", help="Free text: owner, purpose.")
        parser.add_argument("--policy", default="", help="Quota policy name (default policy if omitted).")
        parser.add_argument("--models", default="", help="Comma-separated model ids it may use (all if omitted).")
        parser.add_argument("--expires", default="", help="YYYY-MM-DD (works through that day, UTC) or an ISO date-time.")
        parser.add_argument("--by", default=None, help="Admin username recorded in the history.")

    def handle(self, *args, **options) -> str:
        expires_at = parse_expiry(options["expires"]) if options["expires"] else None
        policy = quota_policy(options["policy"]) if options["policy"] else None
        with transaction.atomic():
            user = audit.actor(options["by"])
            relay_key = RelayKey(
                name=options["name"],
                owner_note=options["owner_note"],
                quota_policy=policy,
                allowed_models="\n".join(parse_model_list(options["models"])),
                expires_at=expires_at,
            )
            key = relay_key.set_new_key()
            relay_key.save()
            audit.log(user, relay_key, audit.ADDITION, "Created relay key")
        self.stderr.write(
            f'Created relay key "{relay_key.name}" (id {relay_key.pk}, prefix {relay_key.prefix}). '
            "Store the key below now: it cannot be shown again."
        )
        for warning in (_mode_warning(), known_models.warning(relay_key.model_list())):
            if warning:
                self.stderr.write(self.style.WARNING(warning))
        return key


def _mode_warning() -> str:
    """Why the new key would be refused as things stand ("" when it will work)."""
    from keys.models import UpstreamKey

    if settings.RELAY_AUTH_MODE == "passthrough":
        return ("Warning: RELAY_AUTH_MODE is passthrough (the default), so the relay takes every bearer token "
                "for a 1min.ai key and this relay key will be refused (401). Set RELAY_AUTH_MODE=managed "
                "(relay keys only) or both (relay keys and 1min.ai keys), set RELAY_ENCRYPTION_KEY, add a 1min.ai "
                "key with `manage.py add_upstream_key`, and restart the relay. See docs/relay-keys.md.")
    if not UpstreamKey.objects.filter(enabled=True).exists():
        return ("Warning: the upstream pool has no enabled 1min.ai key, so calls with this relay key will fail "
                "until you add one with `manage.py add_upstream_key`.")
    return ""
