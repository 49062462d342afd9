"""Platform staff moderate here: fix data, withdraw spam applications. They never vote."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from members.models import Decision, Invitation, Membership, Organization, User, Vote
from members.services import (
    SCREENING_REASON_MAX,
    MembershipError,
    organization_screen,
    organization_withdraw_application,
)


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
    """Who belongs to the organization, read only: a role opens the supporter export, so staff
    (or a stolen staff password) must not make anyone a member or an admin. Organizations manage
    their teams through invitations; staff may only remove a membership (e.g. for abuse)."""

    model = Membership
    extra = 0
    fields = ["user", "role"]
    readonly_fields = ["user", "role"]

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


class ScreeningForm(forms.Form):
    verdict = forms.ChoiceField(
        label=_("Verdict"),
        choices=[
            ("admit", _("Put it to the coalition's vote (the member organizations are mailed)")),
            ("reject", _("Turn it away (spam, fraud, not an organization)")),
        ],
        widget=forms.RadioSelect,
    )
    reason = forms.CharField(
        label=_("Reason"),
        required=False,
        max_length=SCREENING_REASON_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Required when you turn an application away. The applicant reads it."),
    )

    def clean(self) -> dict[str, object]:
        data = super().clean() or {}
        if data.get("verdict") == "reject" and not (data.get("reason") or "").strip():
            self.add_error(
                "reason", _("Give the applicant a reason for turning the application away.")
            )
        return data


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    list_display = ["name", "status", "country_of_registration", "applied_at", "joined_at"]
    list_filter = ["status", "legal_status"]
    search_fields = ["name", "slug", "contact_email"]
    # Membership status changes only through screening and coalition decisions, never by hand.
    readonly_fields = [
        "status",
        "screening",
        "applied_at",
        "applied_by",
        "screened_at",
        "screened_by",
        "screening_reason",
        "joined_at",
    ]
    inlines = [MembershipInline]
    actions = ["withdraw_spam_application"]

    def get_urls(self) -> list[URLPattern]:
        return [
            path(
                "<int:object_id>/screen/",
                self.admin_site.admin_view(self.screen_view),
                name="members_organization_screen",
            ),
            *super().get_urls(),
        ]

    @admin.display(description=_("Screening"))
    def screening(self, obj: Organization) -> str:
        if obj.pk is None or obj.status != Organization.Status.SCREENING:
            return "—"
        url = reverse("admin:members_organization_screen", args=[obj.pk])
        return format_html('<a class="button" href="{}">{}</a>', url, _("Screen this application"))

    def screen_view(self, request: HttpRequest, object_id: int) -> HttpResponse:
        """Staff read the application and either put it to the vote or turn it away, with a
        reason. Only here does an application reach the member organizations' inboxes."""
        organization = Organization.objects.filter(pk=object_id).first()
        if organization is None:
            raise Http404
        if not self.has_change_permission(request, organization):
            raise PermissionDenied
        form = ScreeningForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            staff = request.user if isinstance(request.user, User) else None
            admit = form.cleaned_data["verdict"] == "admit"
            try:
                organization_screen(
                    organization=organization,
                    by=staff,
                    admit=admit,
                    reason=form.cleaned_data["reason"],
                )
            except MembershipError as exc:
                form.add_error(None, str(exc))
            else:
                done = (
                    _("%(name)s is now open for the coalition's vote.")
                    if admit
                    else _("%(name)s was turned away.")
                )
                self.message_user(
                    request, str(done) % {"name": organization.name}, messages.SUCCESS
                )
                return redirect("admin:members_organization_change", organization.pk)
        return render(
            request,
            "admin/members/organization/screen.html",
            {
                **self.admin_site.each_context(request),
                "title": _("Screen an application"),
                "organization": organization,
                "opts": self.model._meta,
                "form": form,
            },
            status=400 if form.errors else 200,
        )

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
    """Staff may revoke an invitation, not write one or raise its role: an organization's admins
    choose who joins their team and as what."""

    list_display = ["email", "organization", "role", "created_at", "accepted_at", "revoked_at"]
    exclude = ["token_hash"]
    readonly_fields = [
        "organization",
        "email",
        "role",
        "invited_by",
        "created_at",
        "expires_at",
        "accepted_at",
    ]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


admin.site.site_header = _("Coalition staff")
admin.site.site_title = _("Coalition staff")
