"""manage.py usage_report: usage per IP, key, model, endpoint or day over a period, as a table or CSV."""
from __future__ import annotations

import csv
from datetime import date

from django.core.management.base import BaseCommand, CommandError

from quotas.models import UsageRecord
from quotas.reports import DIMENSIONS, STATUS_CLASSES, UsageFilter, usage_by

COLUMNS = ["subject", "requests", "errors", "rate_limited", "prompt_tokens", "completion_tokens", "total_tokens", "credits"]
RECORD_COLUMNS = ["time", "client_ip", "key_fingerprint", "endpoint", "model", "status", "prompt_tokens",
                  "completion_tokens", "credits", "latency_ms", "streamed", "cut_short", "unmetered"]


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"{value!r} is not a date (YYYY-MM-DD)") from None


class Command(BaseCommand):
    help = "Report usage over a period (UTC days) per IP, key fingerprint, model, endpoint or day."

    def add_arguments(self, parser):
        parser.add_argument("--by", choices=sorted(DIMENSIONS), default="ip", help="group rows by this (default ip)")
        parser.add_argument("--days", type=int, default=30, help="the last N days, today included (default 30)")
        parser.add_argument("--since", help="first day, YYYY-MM-DD (overrides --days)")
        parser.add_argument("--until", help="last day included, YYYY-MM-DD (default today)")
        parser.add_argument("--ip", default="", help="only this client IP")
        parser.add_argument("--key", default="", help="only this key fingerprint (as the admin shows it)")
        parser.add_argument("--model", default="")
        parser.add_argument("--endpoint", default="")
        parser.add_argument("--status", default="", help=f"{', '.join(STATUS_CLASSES)} or a status code")
        parser.add_argument("--format", choices=["table", "csv"], default="table")
        parser.add_argument("--records", action="store_true", help="list each request instead of sums")

    def handle(self, *args, **options):
        usage = UsageFilter.last_days(options["days"], ip=options["ip"], key=options["key"].lower(),
                                      model=options["model"], endpoint=options["endpoint"], status=options["status"])
        if options["since"]:
            usage.start = _day(options["since"])
        if options["until"]:
            usage.end = _day(options["until"])
        if usage.start > usage.end:
            raise CommandError("--since is after --until")
        if options["records"]:
            header, rows = RECORD_COLUMNS, self._records(usage)
        else:
            header, rows = COLUMNS, [[row[c] for c in COLUMNS] for row in usage_by(options["by"], usage)]
        if options["format"] == "csv":
            writer = csv.writer(self.stdout)
            writer.writerow(header)
            writer.writerows(rows)
        else:
            self._table(header, rows)
        summary = f"Done! {len(rows)} rows from {usage.start} to {usage.end} (UTC)."
        if options["format"] == "csv":
            self.stderr.write(summary)  # stdout stays pure CSV
            return ""
        return summary

    def _records(self, usage: UsageFilter) -> list[list]:
        records = UsageRecord.objects.filter(time__date__gte=usage.start, time__date__lte=usage.end).order_by("time")
        for name, column in (("ip", "client_ip"), ("key", "key_fingerprint"), ("model", "model"), ("endpoint", "endpoint")):
            if getattr(usage, name):
                records = records.filter(**{column: getattr(usage, name)})
        if usage.status in STATUS_CLASSES:
            records = records.filter(STATUS_CLASSES[usage.status])
        elif usage.status.isdigit():
            records = records.filter(status=int(usage.status))
        return [[getattr(r, c).isoformat() if c == "time" else getattr(r, c) for c in RECORD_COLUMNS] for r in records]

    def _table(self, header: list[str], rows: list[list]) -> None:
        cells = [[str("" if v is None else v) for v in row] for row in [header, *rows]]
        widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
        for n, row in enumerate(cells):
            self.stdout.write("  ".join(v.ljust(w) if i == 0 else v.rjust(w) for i, (v, w) in enumerate(zip(row, widths))))
            if n == 0:
                self.stdout.write("  ".join("-" * w for w in widths))
