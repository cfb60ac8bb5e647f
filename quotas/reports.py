"""Usage queries over the daily roll-ups, shared by the admin dashboard and `usage_report`."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.db.models import Count, F, Q, QuerySet, Sum
from django.db.models.functions import TruncHour
from django.utils import timezone

from core import key_labels
from quotas.models import UsageDaily, UsageRecord

DIMENSIONS = {"ip": "client_ip", "key": "key_fingerprint", "model": "model", "endpoint": "endpoint", "day": "day"}
STATUS_CLASSES = {
    "ok": Q(status__lt=400),
    "errors": Q(status__gte=400),
    "429": Q(status=429),
    "4xx": Q(status__gte=400, status__lt=500),
    "5xx": Q(status__gte=500),
}


@dataclass
class UsageFilter:
    """A period of whole UTC days (both ends included) and optional narrowing."""

    start: date
    end: date
    ip: str = ""
    key: str = ""
    model: str = ""
    endpoint: str = ""
    status: str = ""  # one of STATUS_CLASSES, or a status code
    search: str = ""  # part of an IP or key fingerprint

    @classmethod
    def last_days(cls, days: int, **narrowing: str) -> "UsageFilter":
        today = timezone.now().date()
        return cls(today - timedelta(days=max(1, days) - 1), today, **narrowing)

    def queryset(self) -> QuerySet[UsageDaily]:
        return self.narrow(UsageDaily.objects.filter(day__gte=self.start, day__lte=self.end))

    def records(self) -> QuerySet[UsageRecord]:
        return self.narrow(UsageRecord.objects.filter(time__date__gte=self.start, time__date__lte=self.end))

    def narrow(self, rows: QuerySet) -> QuerySet:
        """Everything but the period: the columns both usage tables share."""
        for name, column in (("ip", "client_ip"), ("key", "key_fingerprint"), ("model", "model"), ("endpoint", "endpoint")):
            value = getattr(self, name)
            if value:
                rows = rows.filter(**{column: value})
        if self.status in STATUS_CLASSES:
            rows = rows.filter(STATUS_CLASSES[self.status])
        elif self.status.isdigit():
            rows = rows.filter(status=int(self.status))
        if self.search:
            rows = rows.filter(Q(client_ip__icontains=self.search) | Q(key_fingerprint__icontains=self.search.lower())
                               | Q(key_fingerprint__in=relay_key_fingerprints_named(self.search)))
        return rows


def relay_key_fingerprints_named(text: str) -> list[str]:
    """Fingerprints of the relay keys whose name contains `text` (looked up by the keys app)."""
    return key_labels.fingerprints_named(text)


# Output name -> aggregate; computed under a "sum_" alias (the roll-up's own columns share the names).
SUMS = {
    "requests": Sum("requests"),
    "errors": Sum("requests", filter=Q(status__gte=400)),
    "rate_limited": Sum("requests", filter=Q(status=429)),
    "prompt_tokens": Sum("prompt_tokens"),
    "completion_tokens": Sum("completion_tokens"),
    "credits": Sum("credits"),
    "cut_short": Sum("cut_short"),
}
ALIASED = {f"sum_{name}": aggregate for name, aggregate in SUMS.items()}


def _clean(row: dict[str, Any]) -> dict[str, Any]:
    for name in SUMS:
        row[name] = row.pop(f"sum_{name}", None) or 0
    row["total_tokens"] = row["prompt_tokens"] + row["completion_tokens"]
    return row


def usage_by(dimension: str, usage: UsageFilter, limit: int | None = None, order: str = "-total") -> list[dict[str, Any]]:
    """One row per IP, key, model, endpoint or day, with request, error and token sums; largest
    first by tokens ("-total"), by requests ("-requests") or in subject order ("subject")."""
    column = DIMENSIONS[dimension]
    rows = usage.queryset().values(column).annotate(**ALIASED)
    if dimension != "ip":
        rows = rows.annotate(clients=Count("client_ip", distinct=True))
    rows = [_clean({"subject": row.pop(column), **row}) for row in rows]
    if order == "subject":
        rows.sort(key=lambda r: r["subject"])
    elif order == "-requests":
        rows.sort(key=lambda r: (r["requests"], r["total_tokens"]), reverse=True)
    else:
        rows.sort(key=lambda r: (r["total_tokens"], r["requests"]), reverse=True)
    return rows[:limit] if limit else rows


def totals(usage: UsageFilter) -> dict[str, Any]:
    return _clean(usage.queryset().aggregate(**ALIASED))


def daily_series(usage: UsageFilter) -> list[dict[str, Any]]:
    """Every day of the period in order, zero where nothing happened (charts need the gaps)."""
    found = {row["subject"]: row for row in usage_by("day", usage, order="subject")}
    series = []
    day = usage.start
    while day <= usage.end:
        row = found.get(day) or _clean({"subject": day})
        series.append({"day": day.isoformat(), **{k: row[k] for k in ("requests", "errors", "rate_limited", "total_tokens")}})
        day += timedelta(days=1)
    return series


def hourly_series(usage: UsageFilter) -> list[dict[str, Any]]:
    """Per UTC hour of the period's last day up to now, from the records (roll-ups are daily)."""
    rows = (
        usage.records().annotate(hour=TruncHour("time")).values("hour").annotate(
            requests=Count("id"),
            errors=Count("id", filter=Q(status__gte=400)),
            rate_limited=Count("id", filter=Q(status=429)),
            total_tokens=Sum(F("prompt_tokens") + F("completion_tokens")),
        )
    )
    found = {row["hour"].hour: row for row in rows if row["hour"].date() == usage.end}
    last = timezone.now().hour if usage.end == timezone.now().date() else 23
    return [
        {"hour": f"{usage.end.isoformat()} {hour:02d}:00",
         **{k: (found.get(hour) or {}).get(k) or 0 for k in ("requests", "errors", "rate_limited", "total_tokens")}}
        for hour in range(last + 1)
    ]
