from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from outbox.models import Email
from outbox.services import email_cancel, email_retry


@admin.register(Email)
class EmailAdmin(admin.ModelAdmin):
    list_display = ["created_at", "kind", "subject", "status", "attempts", "sent_at"]
    list_filter = ["status", "kind"]
    search_fields = ["kind", "message_id"]  # the rest is encrypted: not searchable in SQL
    readonly_fields = [f.name for f in Email._meta.fields]
    actions = ["retry", "cancel"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

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
