"""Operator view of model aliases (saving or deleting one reaches every process: api/signals.py)."""
from __future__ import annotations

from django.contrib import admin

from api.models import ModelAlias


@admin.register(ModelAlias)
class ModelAliasAdmin(admin.ModelAdmin):
    list_display = ["alias", "target", "note", "source", "updated_at"]
    search_fields = ["alias", "target", "note"]
    fields = ["alias", "target", "note", "source", "updated_at"]
    readonly_fields = ["source", "updated_at"]
