"""The operator's usage pages in the admin: the dashboard and the per-IP and per-key lists with actions."""
from __future__ import annotations

from datetime import date
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse

from core import key_labels
from quotas import reports
from quotas.models import BlockedClient, ClientOverride, QuotaPolicy, UsageDaily, normalise_target
from quotas.policies import load_table
from quotas.reports import STATUS_CLASSES, UsageFilter

PERIODS = [("1", "Today"), ("7", "Last 7 days"), ("30", "Last 30 days"), ("90", "Last 90 days")]
FILTER_NAMES = ("days", "since", "until", "model", "endpoint", "status", "q")


def _day(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def usage_filter(params) -> UsageFilter:
    """The period and narrowing chosen in the page's filter form (bad values fall back to defaults)."""
    days = params.get("days", "7")
    usage = UsageFilter.last_days(int(days) if days.isdigit() else 7, model=params.get("model", ""),
                                  endpoint=params.get("endpoint", ""), status=params.get("status", ""),
                                  search=params.get("q", "").strip())
    since, until = _day(params.get("since")), _day(params.get("until"))
    if since:
        usage.start = since
    if until:
        usage.end = until
    if usage.start > usage.end:
        usage.start = usage.end
    return usage


def _choices(column: str, usage: UsageFilter) -> list[str]:
    rows = UsageDaily.objects.filter(day__gte=usage.start, day__lte=usage.end)
    return sorted(v for v in rows.values_list(column, flat=True).distinct() if v)


def _context(admin_site, request: HttpRequest, title: str, usage: UsageFilter) -> dict[str, Any]:
    return {
        **admin_site.each_context(request),
        "title": title,
        "usage": usage,
        "params": {name: request.GET.get(name, "") for name in FILTER_NAMES},
        "periods": PERIODS,
        "models": _choices("model", usage),
        "endpoints": _choices("endpoint", usage),
        "statuses": list(STATUS_CLASSES),
        "totals": reports.totals(usage),
        "opts": UsageDaily._meta,
    }


def dashboard(admin_site, request: HttpRequest) -> HttpResponse:
    usage = usage_filter(request.GET)
    hourly = usage.start == usage.end
    series = reports.hourly_series(usage) if hourly else reports.daily_series(usage)
    data = {
        "series": [{"label": row["hour"][-5:] + " UTC" if hourly else row["day"], **row} for row in series],
        "top_ips": [{"label": r["subject"], "requests": r["requests"], "tokens": r["total_tokens"]}
                    for r in reports.usage_by("ip", usage, limit=10, order="-requests")],
        "top_models": [{"label": r["subject"] or "(none)", "requests": r["requests"], "tokens": r["total_tokens"]}
                       for r in reports.usage_by("model", usage, limit=10)],
    }
    context = _context(admin_site, request, "Usage dashboard", usage)
    top_keys = reports.usage_by("key", usage, limit=10)
    label_keys(top_keys, key_labels.labels_by_fingerprint())
    context.update(chart_data=data, hourly=hourly, top_keys=top_keys)
    return TemplateResponse(request, "quotas/admin/dashboard.html", context)


def client_list(admin_site, request: HttpRequest, kind: str) -> HttpResponse:
    """Usage per IP (kind "ip") or per key fingerprint ("key"), with block and policy actions."""
    if request.method == "POST":
        return _act(request, kind)
    usage = usage_filter(request.GET)
    rows = reports.usage_by(kind, usage)
    # The limiter's own table and matching (most specific network first), read once for the page:
    # what each row shows is what the relay does to that client.
    table = load_table()
    if kind == "key":
        label_keys(rows, key_labels.labels_by_fingerprint())
    else:
        for row in rows:
            row["shown"] = row["subject"] or "(unknown address)"
    for row in rows:
        target = _as_target(kind, row["subject"])
        row["target"] = target
        if kind == "ip":
            limits, block = table.for_ip(row["subject"]), table.block(row["subject"], None)
            row["policy_via"] = table.override_for_ip(row["subject"])
        else:
            limits = table.for_key(target, (row["relay_key"] or {}).get("policy", ""))
            block = table.block("", target)
        row["policy"] = limits.policy
        row["blocked"] = block is not None
        # A row refused by a wider rule (a network) is unblocked by lifting that rule.
        row["blocked_by"] = block[0] if block else ""
        row["block_target"] = block[0] if block else target
    context = _context(admin_site, request, "Usage by IP" if kind == "ip" else "Usage by key", usage)
    context.update(kind=kind, rows=rows, policies=QuotaPolicy.objects.all(),
                   can_act=request.user.has_perms(["quotas.add_blockedclient", "quotas.delete_blockedclient",
                                                   "quotas.add_clientoverride", "quotas.change_clientoverride"]))
    return TemplateResponse(request, "quotas/admin/client_list.html", context)


def label_keys(rows: list[dict[str, Any]], labels: dict[str, dict]) -> None:
    """What a key row shows, the same on every page: its name (relay key or a named pass-through
    key), its fingerprint or NO_KEY, and whether it may still be named."""
    for row in rows:
        row["relay_key"] = labels.get(row["subject"])
        row["shown"] = row["subject"] or key_labels.NO_KEY
        row["nameable"] = bool(row["subject"]) and row["relay_key"] is None


def _as_target(kind: str, subject: str) -> str:
    try:
        return normalise_target(kind, subject)
    except ValidationError:
        return subject


def _act(request: HttpRequest, kind: str) -> HttpResponse:
    """Block, unblock or assign a policy to one listed client, then back to the same list."""
    if not request.user.has_perms(["quotas.add_blockedclient", "quotas.add_clientoverride"]):
        raise PermissionDenied
    action, target = request.POST.get("action"), request.POST.get("target", "")
    try:
        target = normalise_target(kind, target)
    except ValidationError as error:
        messages.error(request, "; ".join(error.messages))
        return _back(request)
    if action == "block":
        BlockedClient.objects.update_or_create(kind=kind, target=target, defaults={"note": "blocked from the usage list"})
        messages.success(request, f"Blocked {target}. Every relay process refuses it within seconds.")
    elif action == "unblock":
        for block in BlockedClient.objects.filter(kind=kind, target=target):
            block.delete()
        messages.success(request, f"Unblocked {target}.")
    elif action == "assign":
        policy = QuotaPolicy.objects.filter(pk=request.POST.get("policy") or 0).first()
        if policy is None or policy.is_default:
            for override in ClientOverride.objects.filter(kind=kind, target=target):
                override.delete()
            messages.success(request, f"{target} follows the default policy.")
        else:
            ClientOverride.objects.update_or_create(kind=kind, target=target, defaults={"policy": policy})
            messages.success(request, f"{target} now uses the policy {policy.name}.")
    return _back(request)


def _back(request: HttpRequest) -> HttpResponse:
    query = {k: v for k, v in request.GET.items() if k in FILTER_NAMES and v}
    return HttpResponseRedirect(request.path + (f"?{urlencode(query)}" if query else ""))
