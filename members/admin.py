"""Platform staff moderate here: fix data, withdraw spam applications. They never vote."""

from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from members.models import Decision, Invitation, Membership, Organization, User, Vote
from members.services import MembershipError, organization_withdraw_application


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    ordering = ["email"]
    list_display = ["email", "first_name", "last_name", "is_staff", "is_active"]
    search_fields = ["email", "first_name", "last_name"]
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        (_("Name"), {"fields": ("first_name", "last_name")}),
        (_("Permissions"), {"fields": ("is_active", "is_staff", "is_superuser", "groups")}),
        (_("Dates"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    raw_id_fields = ["user"]


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    list_display = ["name", "status", "country_of_registration", "applied_at", "joined_at"]
    list_filter = ["status", "legal_status"]
    search_fields = ["name", "slug", "contact_email"]
    # Membership status changes only through coalition decisions, never by hand.
    readonly_fields = ["status", "applied_at", "joined_at"]
    inlines = [MembershipInline]
    actions = ["withdraw_spam_application"]

    @admin.action(description=_("Withdraw selected applications as spam"))
    def withdraw_spam_application(
        self, request: HttpRequest, queryset: QuerySet[Organization]
    ) -> None:
        for organization in queryset:
            try:
                organization_withdraw_application(
                    organization=organization,
                    reason=f"Withdrawn by platform staff ({request.user})",
                )
            except MembershipError as exc:
                self.message_user(request, f"{organization}: {exc}", messages.WARNING)


class VoteInline(admin.TabularInline):
    model = Vote
    extra = 0
    can_delete = False
    readonly_fields = ["organization", "choice", "reason", "cast_by", "cast_at", "changed_at"]

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(Decision)
class DecisionAdmin(admin.ModelAdmin):
    list_display = ["title", "kind", "status", "outcome", "opened_at", "deadline"]
    list_filter = ["kind", "status", "outcome"]
    search_fields = ["title", "organization__name"]
    readonly_fields = [
        "kind",
        "organization",
        "proposed_by",
        "opened_at",
        "deadline",
        "closed_at",
        "status",
        "outcome",
        "outcome_reason",
        "eligible_count",
        "agree_count",
        "disagree_count",
        "abstain_count",
        "block_count",
    ]
    inlines = [VoteInline]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    list_display = ["email", "organization", "role", "created_at", "accepted_at", "revoked_at"]
    exclude = ["token_hash"]
    readonly_fields = ["organization", "invited_by", "created_at", "accepted_at"]


admin.site.site_header = _("Coalition staff")
admin.site.site_title = _("Coalition staff")
