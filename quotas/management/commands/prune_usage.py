"""manage.py prune_usage: delete usage records and daily roll-ups past their retention."""
from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils import timezone

from quotas.models import UsageDaily, UsageRecord


class Command(BaseCommand):
    help = "Delete usage records older than USAGE_RETENTION_DAYS and roll-ups older than USAGE_ROLLUP_RETENTION_DAYS."

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=settings.USAGE_RETENTION_DAYS,
                            help="keep this many days of records (default USAGE_RETENTION_DAYS)")
        parser.add_argument("--rollup-days", type=int, default=settings.USAGE_ROLLUP_RETENTION_DAYS,
                            help="keep this many days of daily roll-ups (default USAGE_ROLLUP_RETENTION_DAYS)")

    def handle(self, *args, **options):
        now = timezone.now()
        records_before = now - timedelta(days=max(1, options["days"]))
        rollups_before = (now - timedelta(days=max(1, options["rollup_days"]))).date()
        records, _ = UsageRecord.objects.filter(time__lt=records_before).delete()
        rollups, _ = UsageDaily.objects.filter(day__lt=rollups_before).delete()
        return (f"Done! Pruned {records} usage records before {records_before:%Y-%m-%d %H:%M} UTC "
                f"and {rollups} daily roll-ups before {rollups_before}.")
