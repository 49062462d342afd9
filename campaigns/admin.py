"""Staff can correct campaign data and see the audit trail; signer data stays out of view."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from campaigns.models import (
    Campaign,
    CampaignRevision,
    CoSponsorship,
    IssueArea,
    Petition,
    SupporterExport,
)


@admin.register(IssueArea)
class IssueAreaAdmin(admin.ModelAdmin):
    list_display = ["slug", "name_en", "name_ru", "position"]


class CoSponsorshipInline(admin.TabularInline):
    model = CoSponsorship
    extra = 0
    raw_id_fields = ["organization"]


class PetitionInline(admin.TabularInline):
    model = Petition
    extra = 0
    fields = ["slug", "title_en", "title_ru", "goal", "deadline", "confirmed_count"]
    readonly_fields = ["confirmed_count"]


@admin.register(Campaign)
class CampaignAdmin(admin.ModelAdmin):
    list_display = ["slug", "title_en", "title_ru", "issue_area", "status", "result"]
    list_filter = ["status", "result", "issue_area"]
    search_fields = ["slug", "title_en", "title_ru"]
    inlines = [CoSponsorshipInline, PetitionInline]


@admin.register(SupporterExport)
class SupporterExportAdmin(admin.ModelAdmin):
    """Who exported supporters, when: read-only for everyone."""

    list_display = ["exported_at", "campaign", "organization", "exported_by", "row_count"]
    list_filter = ["organization"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(CampaignRevision)
class CampaignRevisionAdmin(SupporterExportAdmin):
    list_display = ["edited_at", "campaign", "organization", "edited_by"]
    list_filter = []
