"""A read-only admin list of every change made in the admin or by the key commands, and by whom."""
from __future__ import annotations

from django.contrib import admin
from django.contrib.admin.models import LogEntry


@admin.register(LogEntry)
class ChangeHistoryAdmin(admin.ModelAdmin):
    list_display = ["action_time", "user", "content_type", "object_repr", "action", "change"]
    list_filter = ["content_type", "user"]
    search_fields = ["object_repr", "change_message", "user__username"]
    date_hierarchy = "action_time"

    @admin.display(description="action")
    def action(self, entry: LogEntry) -> str:
        return {1: "added", 2: "changed", 3: "deleted"}.get(entry.action_flag, "?")

    @admin.display(description="what changed")
    def change(self, entry: LogEntry) -> str:
        return entry.get_change_message()

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
