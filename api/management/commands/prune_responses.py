"""manage.py prune_responses: delete stored responses older than RESPONSES_RETENTION_DAYS."""
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from api.services.response_store import prune


class Command(BaseCommand):
    help = "Delete stored Responses API responses older than the retention period and say how many."

    def add_arguments(self, parser):
        parser.add_argument(
            "--days", type=int, default=None,
            help="Keep this many days instead of RESPONSES_RETENTION_DAYS.",
        )

    def handle(self, *args, **options):
        days = options["days"] if options["days"] is not None else settings.RESPONSES_RETENTION_DAYS
        if days < 0:
            raise CommandError("--days must be 0 or more.")
        deleted = prune(days)
        return f"Done! Pruned {deleted} stored responses older than {days} days."
