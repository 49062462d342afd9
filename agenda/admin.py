"""Staff's read-only list of the agenda, to find a hidden proposal and open its moderation page.

Nothing is edited here (moderation goes through agenda.services, logged with a reason), and no
contact column is shown: staff never need a proposer's or supporter's address."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from agenda.models import Proposal


@admin.register(Proposal)
class ProposalAdmin(admin.ModelAdmin):
    list_display = ("title", "status", "support_count", "created_at", "moderation_link")
    list_filter = ("status",)
    fields = ("title", "description", "issue_area", "status", "support_count", "moderation_link")
    readonly_fields = fields

    @admin.display(description=_("Moderation"))
    def moderation_link(self, obj: Proposal) -> str:
        url = reverse("agenda:staff_moderate", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, _("Hide or restore"))

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
