"""Staff manage the contact directory, import lists, and see every message's fate."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path
from django.utils.translation import gettext_lazy as _

from outreach import selectors
from outreach.importing import contacts_import_csv, contacts_import_mep_xml
from outreach.models import Contact, Letter, LetterCampaign, PetitionDelivery, Reply


class ImportForm(forms.Form):
    file = forms.FileField(label=_("CSV or MEP list XML"))


@admin.register(Contact)
class ContactAdmin(admin.ModelAdmin):
    """Staff keep the directory. A changed address is in the object's admin history, and takes
    every approved letter campaign naming the contact as a fixed target off the air until the
    co-sponsors approve it again (the approval fingerprint binds each fixed target's address).
    Country and topic targeting pick contacts when each letter is sent."""

    list_display = ["name", "institution", "country", "email", "status"]
    list_filter = ["institution", "status", "country"]
    search_fields = ["name", "email", "title", "political_group"]
    change_list_template = "admin/outreach/contact/change_list.html"

    def get_urls(self) -> list[URLPattern]:
        return [
            path("import/", self.admin_site.admin_view(self.import_view), name="contact_import"),
            *super().get_urls(),
        ]

    def import_view(self, request: HttpRequest) -> HttpResponse:
        form = ImportForm(request.POST or None, request.FILES or None)
        report = None
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["file"]
            raw = upload.read()
            is_xml = upload.name.lower().endswith(".xml")
            report = contacts_import_mep_xml(raw) if is_xml else contacts_import_csv(raw)
            if report.ok:
                self.message_user(
                    request,
                    f"{report.created} created, {report.updated} updated.",
                    messages.SUCCESS,
                )
                return redirect("admin:outreach_contact_changelist")
        return render(
            request,
            "admin/outreach/contact/import.html",
            {**self.admin_site.each_context(request), "form": form, "report": report},
        )


class ReadOnlyAdmin(admin.ModelAdmin):
    """Staff may look, not write: what the co-sponsors approved together is theirs to change."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(LetterCampaign)
class LetterCampaignAdmin(ReadOnlyAdmin):
    """Read only. Its text, targets, test mode and approval fingerprint are what every
    co-sponsor approved (a joint act); a stolen staff password must not put a letter on the air
    or send it elsewhere. Co-sponsors edit it in their workspace and approve it again."""

    list_display = ["campaign", "petition", "targeting", "test_mode", "starts_at", "ends_at"]


@admin.register(Letter)
class LetterAdmin(admin.ModelAdmin):
    """Which official got a letter and what became of it; never who wrote it or what it says.

    The signer shows only as "signature #id", the message only by its outbox status. Read only:
    a letter is a record of what was sent on a signer's behalf.
    """

    list_display = ["created_at", "letter_campaign", "contact", "email"]
    list_select_related = ["contact", "email", "letter_campaign"]
    list_filter = ["letter_campaign"]
    exclude = ["signer_digest"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(PetitionDelivery)
class PetitionDeliveryAdmin(ReadOnlyAdmin):
    """Read only: a delivery (its recipients, whether signers' names go with it, its date) is
    what every co-sponsor approved; what was sent, and whether it went, is a record."""

    list_display = ["petition", "milestone", "scheduled_for", "status", "sent_at"]


@admin.register(Reply)
class ReplyAdmin(admin.ModelAdmin):
    """Staff see an emailed reply as co-sponsors do: without the letter it quotes and with its
    signer's name, city, address and own words redacted; never the stored text as such."""

    list_display = ["received_at", "campaign", "contact", "source", "published_at"]
    list_select_related = ["campaign", "contact"]
    list_filter = ["source"]
    exclude = ["summary", "letter"]
    readonly_fields = ["text", "source", "published_at", "published_by", "published_for"]

    @admin.display(description=_("text or summary"))
    def text(self, obj: Reply) -> str:
        return selectors.reply_text(obj)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
