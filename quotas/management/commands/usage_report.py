"""manage.py usage_report: usage per IP, key, model, endpoint or day over a period, as a table or CSV."""
from __future__ import annotations

import csv
import os
import re
import sys
from datetime import date

from django.core.management.base import BaseCommand, CommandError

from core import key_labels
from core.identity import fingerprint
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
        parser.add_argument("--key", default="", help="only this key: its fingerprint (as the admin shows it), "
                                                     "its name (relay key or named pass-through key), or the key itself")
        parser.add_argument("--model", default="")
        parser.add_argument("--endpoint", default="")
        parser.add_argument("--status", default="", help=f"{', '.join(STATUS_CLASSES)} or a status code")
        parser.add_argument("--format", choices=["table", "csv"], default="table")
        parser.add_argument("--records", action="store_true", help="list each request instead of sums")

    def execute(self, *args, **options):
        try:
            return super().execute(*args, **options)
        except BrokenPipeError:
            # `usage_report | head`: the reader left. Stop quietly, and keep Python's exit-time flush
            # of stdout from printing a second traceback.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            return None

    def handle(self, *args, **options):
        status = options["status"]
        if status and status not in STATUS_CLASSES and not (status.isdigit() and 100 <= int(status) <= 599):
            raise CommandError(f"--status {status!r}: use one of {', '.join(STATUS_CLASSES)} or a status code (100-599).")
        usage = UsageFilter.last_days(options["days"], ip=options["ip"], key=self._key(options["key"]),
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
            if options["by"] == "key":  # the key's name where the relay knows one, as the admin shows it
                labels = key_labels.labels_by_fingerprint()
                header = [*header, "name"]
                rows = [[*row, (labels.get(row[0]) or {}).get("name", "")] for row in rows]
                if options["format"] == "table":
                    rows = [[row[0] or key_labels.NO_KEY, *row[1:]] for row in rows]
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

    def _key(self, given: str) -> str:
        """A fingerprint from what the operator gave: a fingerprint, a key's name, or a raw key (hashed
        here as the relay hashes it, never stored or printed)."""
        given = given.strip()
        if not given or re.fullmatch(r"[0-9a-fA-F]{32}", given):
            return given.lower()
        labels = key_labels.labels_by_fingerprint()
        named = [fp for fp, label in labels.items() if label["name"] == given]
        if len(named) == 1:
            self.stderr.write(f"--key: the key named {given!r} has the fingerprint {named[0]}.")
            return named[0]
        if len(named) > 1:
            raise CommandError(f"--key: {len(named)} keys are named {given!r}; give the fingerprint instead "
                               f"({', '.join(named)}).")
        if re.fullmatch(r"[0-9a-fA-F]{1,64}", given):
            raise CommandError(f"--key {given!r}: a fingerprint has 32 hex characters, as the usage pages show it.")
        found = fingerprint(given)
        self.stderr.write(f"--key: not a fingerprint or a key's name, so taken as the key itself: its fingerprint "
                          f"is {found}.")
        return found

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
