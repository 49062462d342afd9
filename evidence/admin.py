"""Staff manage the lists here. Case reports are not in the admin: staff do not moderate, and
nobody should browse reporters' words or addresses from a staff session."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from evidence.models import ModerationLog, Term


@admin.register(Term)
class TermAdmin(admin.ModelAdmin):
    list_display = [
        "name_en",
        "name_ru",
        "issue_area",
        "vocabulary",
        "approved_at",
        "retired_at",
        "added_by",
    ]
    list_filter = ["issue_area", "vocabulary"]
    search_fields = ["name_en", "name_ru"]
    fields = ["issue_area", "vocabulary", "name_en", "name_ru", "approved_at", "retired_at"]

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # retired, never deleted: old reports keep their meaning


@admin.register(ModerationLog)
class ModerationLogAdmin(admin.ModelAdmin):
    list_display = ["at", "organization", "user", "action", "report_number", "term", "reason"]
    list_filter = ["action"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
