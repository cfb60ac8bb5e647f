"""Operator views of relay keys and upstream keys: no page ever shows a full key after creation."""
from __future__ import annotations

import time

from django import forms
from django.contrib import admin, messages
from django.template.response import TemplateResponse

from core.identity import fingerprint
from keys import admin_history, crypto  # noqa: F401 - admin_history registers a list
from keys.models import KeyName, RelayKey, UpstreamKey, parse_model_list
from keys.pool import cooldown_name
from keys.shared_state import SharedStateError, state


class RelayKeyForm(forms.ModelForm):
    class Meta:
        model = RelayKey
        fields = ["name", "owner_note", "quota_policy", "allowed_models", "expires_at", "enabled"]

    def clean_allowed_models(self) -> str:
        return "\n".join(parse_model_list(self.cleaned_data.get("allowed_models", "")))


@admin.register(RelayKey)
class RelayKeyAdmin(admin.ModelAdmin):
    form = RelayKeyForm
    list_display = ["name", "shown_prefix", "status", "quota_policy", "models", "expires_at", "last_used_at"]
    list_filter = ["enabled"]
    search_fields = ["name", "owner_note", "prefix"]
    actions = ["revoke"]

    def get_fields(self, request, obj=None):
        fields = ["name", "owner_note", "quota_policy", "allowed_models", "expires_at", "enabled"]
        return fields if obj is None else ["shown_prefix", *fields, "created_at", "last_used_at"]

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else ["shown_prefix", "created_at", "last_used_at"]

    @admin.display(description="key")
    def shown_prefix(self, obj: RelayKey) -> str:
        return f"{obj.prefix}…"

    @admin.display(description="status")
    def status(self, obj: RelayKey) -> str:
        if not obj.enabled:
            return "revoked"
        return "expired" if obj.is_expired() else "active"

    @admin.display(description="allowed models")
    def models(self, obj: RelayKey) -> str:
        return ", ".join(obj.model_list()) or "all"

    def save_model(self, request, obj: RelayKey, form, change: bool) -> None:
        if not change:
            # Shown once by response_add below; kept nowhere else (not in a message or session).
            request._new_relay_key = obj.set_new_key()
        super().save_model(request, obj, form, change)

    def response_add(self, request, obj: RelayKey, post_url_continue=None):
        key = getattr(request, "_new_relay_key", None)
        if key is None:
            return super().response_add(request, obj, post_url_continue)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": "Relay key created",
            "relay_key": obj,
            "full_key": key,
        }
        response = TemplateResponse(request, "admin/keys/relaykey/key_created.html", context)
        response["Cache-Control"] = "no-store"
        return response

    @admin.action(description="Revoke the selected relay keys")
    def revoke(self, request, queryset) -> None:
        revoked = 0
        for relay_key in queryset.filter(enabled=True):
            relay_key.enabled = False
            relay_key.save(update_fields=["enabled"])  # post_save announces the change
            self.log_change(request, relay_key, "Revoked.")
            revoked += 1
        self.message_user(request, f"Revoked {revoked} relay key(s).", messages.SUCCESS)


class UpstreamKeyForm(forms.ModelForm):
    api_key = forms.CharField(
        label="1min.ai API key",
        required=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        help_text="Stored encrypted and never shown again. On an existing key, leave blank to keep it.",
    )

    class Meta:
        model = UpstreamKey
        fields = ["label", "api_key", "note", "enabled"]

    def clean_api_key(self) -> str:
        secret = self.cleaned_data.get("api_key", "").strip()
        if not secret:
            if self.instance.pk is None:
                raise forms.ValidationError("Enter the 1min.ai API key.")
            return ""
        others = UpstreamKey.objects.exclude(pk=self.instance.pk)
        if others.filter(fingerprint=fingerprint(secret)).exists():
            raise forms.ValidationError("This 1min.ai key is already in the pool.")
        try:
            crypto.fernet()
        except crypto.EncryptionUnavailable as error:
            raise forms.ValidationError(f"{error} Run `manage.py check` to see how to set it.")
        return secret

    def save(self, commit: bool = True) -> UpstreamKey:
        if self.cleaned_data.get("api_key"):
            self.instance.set_secret(self.cleaned_data["api_key"])
        return super().save(commit)


@admin.register(UpstreamKey)
class UpstreamKeyAdmin(admin.ModelAdmin):
    form = UpstreamKeyForm
    list_display = ["label", "masked_key", "enabled", "health", "requests", "failures", "last_used_at", "last_failure"]
    list_filter = ["enabled"]
    search_fields = ["label", "note"]
    actions = ["clear_cooldown"]
    readonly_fields = ["masked_key", "health", "requests", "failures", "last_used_at", "last_failure", "created_at"]

    def get_fields(self, request, obj=None):
        fields = ["label", "api_key", "note", "enabled"]
        return fields if obj is None else ["masked_key", *fields, *self.readonly_fields[1:]]

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else self.readonly_fields

    @admin.display(description="key")
    def masked_key(self, obj: UpstreamKey) -> str:
        try:
            return crypto.mask(obj.secret())
        except (crypto.UndecryptableKey, crypto.EncryptionUnavailable):
            return "•" * 8

    @admin.display(description="health")
    def health(self, obj: UpstreamKey) -> str:
        if not obj.enabled:
            return "disabled"
        try:
            obj.secret()
        except crypto.EncryptionUnavailable:
            return "unusable: RELAY_ENCRYPTION_KEY is not set"
        except crypto.UndecryptableKey:
            return "unusable: RELAY_ENCRYPTION_KEY no longer holds the key it was stored with"
        try:
            (value,) = state().get_many_sync([cooldown_name(obj.pk)])
        except SharedStateError:
            return "unknown (shared state unavailable)"
        if value:
            until, _, reason = value.partition("|")
            left = float(until) - time.time()
            if left > 0:
                return f"cooling down ({reason.replace('_', ' ')}), {left:.0f}s left"
        return "healthy"

    @admin.display(description="last failure")
    def last_failure(self, obj: UpstreamKey) -> str:
        if obj.last_failure_at is None:
            return "—"
        return f"{obj.last_failure_reason.replace('_', ' ')} at {obj.last_failure_at:%Y-%m-%d %H:%M:%S} UTC"

    @admin.action(description="End the cool-down of the selected upstream keys")
    def clear_cooldown(self, request, queryset) -> None:
        keys = list(queryset)
        try:
            state().delete_sync([cooldown_name(k.pk) for k in keys])
        except SharedStateError as error:
            self.message_user(request, f"Shared state unavailable: {error}", messages.ERROR)
            return
        for upstream in keys:
            self.log_change(request, upstream, "Cool-down ended.")
        self.message_user(request, f"Ended the cool-down of {len(keys)} upstream key(s).", messages.SUCCESS)


@admin.register(KeyName)
class KeyNameAdmin(admin.ModelAdmin):
    """Names for pass-through keys, by fingerprint: shown wherever usage names a key."""

    list_display = ["name", "fingerprint", "note", "created_at"]
    search_fields = ["name", "fingerprint", "note"]
    fields = ["fingerprint", "name", "note"]

    def get_changeform_initial_data(self, request):
        # The usage pages link here with ?fingerprint=… for an unnamed key.
        return {"fingerprint": request.GET.get("fingerprint", "")}
