"""Staff see every message's fate (kind, lane, status, attempts, reason, times) and can retry or
cancel it; they never read what it says.

Signer mail carries a signer's address and working action links (confirm, not me, withdraw,
erase, letter, survey): whoever reads it can act as the signer. Letters carry the signer's name,
city and own words; account and invitation mail carry sign-in and joining links. So no body is
shown to staff, and an address or a subject only for kinds known to hold nothing of a signer's
(decided by kind, so a new kind starts hidden).
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from outbox.models import Email, Suppression
from outbox.services import email_cancel, email_retry

# Mail to organizations' people (accounts, invitations, coalition decisions, co-sponsorship
# invitations): staff see these addresses in the user and organization admins anyway.
_TO_PEOPLE_OF_ORGANIZATIONS = ("account.", "members.", "campaigns.cosponsor_invited")
# Mail to EU officials: their address is public; what the letter says is the signer's.
_TO_OFFICIALS = ("outreach.letter", "outreach.delivery")

# What staff see of a message: its fate, never its content.
_SHOWN = (
    "kind",
    "recipient",
    "subject_line",
    "lane",
    "status",
    "attempts",
    "last_error",
    "created_at",
    "next_attempt_at",
    "dispatched_at",
    "claimed_at",
    "sent_at",
    "message_id",
)

HIDDEN = _("(hidden: may hold a signer's personal data or links)")


def _kind_is(email: Email, prefixes: tuple[str, ...]) -> bool:
    return any(email.kind == p or (p.endswith(".") and email.kind.startswith(p)) for p in prefixes)


@admin.register(Email)
class EmailAdmin(admin.ModelAdmin):
    list_display = [
        "created_at",
        "kind",
        "recipient",
        "subject_line",
        "lane",
        "status",
        "attempts",
        "sent_at",
    ]
    list_filter = ["status", "kind", "bulk"]
    search_fields = ["kind", "message_id"]  # never an address: the search would reveal it
    # The encrypted columns (to, from, reply-to, subject, bodies) are not fields here at all.
    fields = _SHOWN
    readonly_fields = _SHOWN
    actions = ["retry", "cancel"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False  # the outbox is the record of what was sent

    @admin.display(description=_("recipient"))
    def recipient(self, email: Email) -> str:
        if _kind_is(email, _TO_PEOPLE_OF_ORGANIZATIONS + _TO_OFFICIALS):
            return email.to
        return str(HIDDEN)

    @admin.display(description=_("subject"))
    def subject_line(self, email: Email) -> str:
        if _kind_is(email, _TO_PEOPLE_OF_ORGANIZATIONS):
            return email.subject
        return str(HIDDEN)

    @admin.display(description=_("lane"))
    def lane(self, email: Email) -> str:
        return str(_("mass mail") if email.bulk else _("someone is waiting"))

    @admin.action(description=_("Retry selected failed emails"))
    def retry(self, request: HttpRequest, queryset: QuerySet[Email]) -> None:
        for email in queryset:
            email_retry(email=email)
        self.message_user(request, _("Retry requested."), messages.SUCCESS)

    @admin.action(description=_("Cancel selected queued emails"))
    def cancel(self, request: HttpRequest, queryset: QuerySet[Email]) -> None:
        for email in queryset:
            email_cancel(email=email)
        self.message_user(request, _("Cancelled where still queued."), messages.SUCCESS)


@admin.register(Suppression)
class SuppressionAdmin(admin.ModelAdmin):
    """The suppression list: keyed hashes only, no address. Staff may lift an entry (a person
    who unsubscribed by mistake writes in); nobody adds one here: people and providers do."""

    list_display = ("digest_start", "scope", "reason", "created_at")
    list_filter = ("reason", "scope")
    readonly_fields = ("digest", "scope", "reason", "created_at")
    ordering = ("-created_at",)

    @admin.display(description=_("mailbox (keyed hash)"))
    def digest_start(self, obj: Suppression) -> str:
        return obj.digest[:12] + "…"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
