"""Staff can correct campaign data and see the audit trail; signer data stays out of view."""

from __future__ import annotations

from django.contrib import admin, messages
from django.http import HttpRequest

from campaigns import services
from campaigns.models import (
    Campaign,
    CampaignRevision,
    CoSponsorship,
    IssueArea,
    OutcomeEvent,
    Petition,
    SupporterExport,
)
from members.models import User


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

    list_display = [
        "exported_at",
        "campaign",
        "organization",
        "exported_by",
        "row_count",
        "channel",
        "api_token",
    ]
    list_filter = ["organization", "channel"]

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


@admin.register(OutcomeEvent)
class OutcomeEventAdmin(admin.ModelAdmin):
    """Staff record and correct any campaign's outcomes, through the same rules as co-sponsors."""

    list_display = ["date", "campaign", "kind", "system", "recorded_by"]
    list_filter = ["kind", "system"]
    search_fields = ["description_en", "description_ru", "campaign__title_en"]
    readonly_fields = ["system", "recorded_by", "recorded_by_user", "created_at", "link"]

    def save_model(
        self, request: HttpRequest, obj: OutcomeEvent, form: object, change: bool
    ) -> None:
        user = request.user
        assert isinstance(user, User)  # noqa: S101 - the admin requires a signed-in staff user
        try:
            if change:
                services.outcome_update(
                    event=obj,
                    user=user,
                    kind=obj.kind,
                    date=obj.date,
                    description_en=obj.description_en,
                    description_ru=obj.description_ru,
                    evidence_url=obj.evidence_url,
                )
            else:
                services.outcome_record(
                    campaign=obj.campaign,
                    organization=None,
                    user=user,
                    kind=obj.kind,
                    date=obj.date,
                    description_en=obj.description_en,
                    description_ru=obj.description_ru,
                    evidence_url=obj.evidence_url,
                    evidence_file=obj.evidence_file,
                )
        except services.CampaignError as exc:
            self.message_user(request, str(exc), messages.ERROR)
