"""Quotas in the Django admin: policies, overrides, the block list, usage records and the usage pages.

Keys appear only as fingerprints: the relay never has anything else to show.
"""
from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.db.models import Count, Sum
from django.template.response import TemplateResponse

from core import key_labels
from quotas import dashboard
from quotas.models import (
    BlockedClient, ClientKind, ClientOverride, QuotaPolicy, UsageByIP, UsageByKey, UsageDashboard, UsageRecord,
)
from quotas.policies import resolve, settings_limits


@admin.register(QuotaPolicy)
class QuotaPolicyAdmin(admin.ModelAdmin):
    list_display = ("name", "is_default", "rpm", "tpm", "daily", "monthly", "models", "client_count", "updated_at")
    search_fields = ("name", "allowed_models")
    readonly_fields = ("updated_at", "inherited")

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(clients=Count("overrides"))

    def _inherited(self, policy):
        """What this policy's blank fields come to: the settings for the default, else the default."""
        if policy.is_default:
            return settings_limits()
        default = QuotaPolicy.objects.filter(is_default=True).first()
        return resolve(default, settings_limits()) if default else settings_limits()

    def _show(self, policy, field: str, inherited_field: str) -> str:
        value = getattr(policy, field)
        if value is None:
            inherited = getattr(self._inherited(policy), inherited_field)
            return f"inherit ({inherited:,})" if inherited else "inherit (unlimited)"
        return "unlimited" if value == 0 else f"{value:,}"

    @admin.display(description="requests/min")
    def rpm(self, policy):
        return self._show(policy, "requests_per_minute", "requests_per_minute")

    @admin.display(description="tokens/min")
    def tpm(self, policy):
        return self._show(policy, "tokens_per_minute", "tokens_per_minute")

    @admin.display(description="tokens/day")
    def daily(self, policy):
        return self._show(policy, "daily_token_budget", "daily_tokens")

    @admin.display(description="tokens/month")
    def monthly(self, policy):
        return self._show(policy, "monthly_token_budget", "monthly_tokens")

    @admin.display(description="models")
    def models(self, policy):
        listed = policy.model_list()
        return "inherit" if listed is None else (", ".join(listed) or "all")

    @admin.display(description="clients", ordering="clients")
    def client_count(self, policy):
        return policy.clients

    @admin.display(description="blank fields inherit")
    def inherited(self, policy):
        limits = self._inherited(policy)
        source = "the environment settings" if policy.is_default else "the default policy"

        def show(value):
            return f"{value:,}" if value else "unlimited"

        models = ", ".join(sorted(limits.models)) if limits.models else "all"
        return (f"from {source}: {show(limits.requests_per_minute)} requests/min, {show(limits.tokens_per_minute)} "
                f"tokens/min, {show(limits.daily_tokens)} tokens/day, {show(limits.monthly_tokens)} tokens/month, "
                f"models: {models}")


@admin.register(ClientOverride)
class ClientOverrideAdmin(admin.ModelAdmin):
    list_display = ("target", "kind", "policy", "note", "created_at")
    list_filter = ("kind", "policy")
    search_fields = ("target", "note")


@admin.register(BlockedClient)
class BlockedClientAdmin(admin.ModelAdmin):
    list_display = ("target", "kind", "note", "created_at")
    list_filter = ("kind",)
    search_fields = ("target", "note")
    actions = ["unblock"]

    @admin.action(description="Unblock the selected clients", permissions=["delete"])
    def unblock(self, request, queryset):
        count = 0
        for block in queryset:
            block.delete()  # one by one, so each deletion is announced to every process
            count += 1
        self.message_user(request, f"Unblocked {count} client(s).", messages.SUCCESS)


class PeriodFilter(admin.SimpleListFilter):
    title = "period"
    parameter_name = "period"

    def lookups(self, request, model_admin):
        return [("1", "Today"), ("7", "Last 7 days"), ("30", "Last 30 days")]

    def queryset(self, request, queryset):
        if self.value() in ("1", "7", "30"):
            usage = dashboard.UsageFilter.last_days(int(self.value()))
            return queryset.filter(time__date__gte=usage.start)
        return queryset


class StatusFilter(admin.SimpleListFilter):
    title = "status"
    parameter_name = "status_class"

    def lookups(self, request, model_admin):
        return [("ok", "Success"), ("errors", "Errors (4xx and 5xx)"), ("429", "Rate limited (429)"),
                ("4xx", "Client errors"), ("5xx", "Server errors")]

    def queryset(self, request, queryset):
        condition = dashboard.STATUS_CLASSES.get(self.value() or "")
        return queryset.filter(condition) if condition is not None else queryset


class AssignPolicyForm(forms.Form):
    policy = forms.ModelChoiceField(QuotaPolicy.objects.all(), help_text="The default policy removes the override.")


@admin.register(UsageRecord)
class UsageRecordAdmin(admin.ModelAdmin):
    # Compact columns, so the table fits beside the filters at 1400 px (tests/e2e/test_dashboard_browser.py).
    list_display = ("when", "client_ip", "key", "endpoint", "model", "status", "tokens", "credits", "latency",
                    "delivery")
    list_filter = (PeriodFilter, StatusFilter, "model", "endpoint", "streamed", "cut_short", "unmetered")
    search_fields = ("client_ip", "key_fingerprint", "model")
    date_hierarchy = "time"
    change_list_template = "quotas/admin/usagerecord_change_list.html"
    actions = ["block_ips", "assign_policy_to_ips", "assign_policy_to_keys"]
    list_per_page = 100

    _labels: dict[str, dict] = {}

    @admin.display(description="time (UTC)", ordering="time")
    def when(self, record):
        return f"{record.time:%m-%d %H:%M:%S}"

    @admin.display(description="tokens", ordering="prompt_tokens")
    def tokens(self, record):
        """Prompt + completion."""
        return f"{record.prompt_tokens} + {record.completion_tokens}"

    @admin.display(description="ms", ordering="latency_ms")
    def latency(self, record):
        return record.latency_ms

    @admin.display(description="delivery")
    def delivery(self, record):
        kind = "stream" if record.streamed else "whole"
        return kind + (", cut short" if record.cut_short else "") + (", unmetered" if record.unmetered else "")

    @admin.display(description="key", ordering="key_fingerprint")
    def key(self, record):
        if not record.key_fingerprint:
            return key_labels.NO_KEY
        label = self._labels.get(record.key_fingerprint)
        short = record.key_fingerprint[:12] + "…"
        return f"{label['name']} ({short})" if label else short

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def changelist_view(self, request, extra_context=None):
        self._labels = key_labels.labels_by_fingerprint()  # once per page, not per row
        response = super().changelist_view(request, extra_context)
        changelist = getattr(response, "context_data", {}).get("cl")
        if changelist is not None:
            response.context_data["usage_totals"] = changelist.queryset.aggregate(
                requests=Count("id"), prompt=Sum("prompt_tokens"), completion=Sum("completion_tokens"),
                credits=Sum("credits"))
        return response

    @admin.action(description="Block the client IPs of the selected records")
    def block_ips(self, request, queryset):
        ips = {ip for ip in queryset.values_list("client_ip", flat=True) if ip}
        for ip in ips:
            BlockedClient.objects.update_or_create(kind=ClientKind.IP, target=ip, defaults={"note": "blocked from usage records"})
        self.message_user(request, f"Blocked {len(ips)} IP(s).", messages.SUCCESS)

    def _assign(self, request, queryset, kind: str, column: str):
        targets = sorted({t for t in queryset.values_list(column, flat=True) if t})
        form = AssignPolicyForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            policy = form.cleaned_data["policy"]
            for target in targets:
                if policy.is_default:
                    ClientOverride.objects.filter(kind=kind, target=target).delete()
                else:
                    ClientOverride.objects.update_or_create(kind=kind, target=target, defaults={"policy": policy})
            self.message_user(request, f"{len(targets)} client(s) now use {policy.name}.", messages.SUCCESS)
            return None
        return TemplateResponse(request, "quotas/admin/assign_policy.html", {
            **self.admin_site.each_context(request), "title": "Assign a policy", "form": form,
            "targets": targets, "queryset": queryset, "action": request.POST.get("action"), "opts": self.model._meta,
        })

    @admin.action(description="Assign a policy to the client IPs of the selected records")
    def assign_policy_to_ips(self, request, queryset):
        return self._assign(request, queryset, ClientKind.IP, "client_ip")

    @admin.action(description="Assign a policy to the key fingerprints of the selected records")
    def assign_policy_to_keys(self, request, queryset):
        return self._assign(request, queryset, ClientKind.KEY, "key_fingerprint")


class UsagePage(admin.ModelAdmin):
    """An admin entry whose list page is one of the usage pages (read-only)."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(UsageDashboard)
class UsageDashboardAdmin(UsagePage):
    def changelist_view(self, request, extra_context=None):
        if not self.has_view_permission(request):
            raise dashboard.PermissionDenied
        return dashboard.dashboard(self.admin_site, request)


@admin.register(UsageByIP)
class UsageByIPAdmin(UsagePage):
    def changelist_view(self, request, extra_context=None):
        if not self.has_view_permission(request):
            raise dashboard.PermissionDenied
        return dashboard.client_list(self.admin_site, request, ClientKind.IP)


@admin.register(UsageByKey)
class UsageByKeyAdmin(UsagePage):
    def changelist_view(self, request, extra_context=None):
        if not self.has_view_permission(request):
            raise dashboard.PermissionDenied
        return dashboard.client_list(self.admin_site, request, ClientKind.KEY)
