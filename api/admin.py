"""Staff see which API tokens exist and can revoke one in an emergency (a leaked token, a
hostile admin); they cannot create tokens or see anything that would let them use one."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext as _

from api import services
from api.models import ApiToken
from members import access


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "prefix",
        "organization",
        "can_read",
        "can_write",
        "created_by",
        "created_at",
        "last_used_at",
        "revoked_at",
    ]
    list_filter = ["organization"]
    fields = [  # never the digest
        "name",
        "prefix",
        "organization",
        "can_read",
        "can_write",
        "created_by",
        "created_at",
        "last_used_at",
        "revoked_at",
        "revoked_by",
    ]
    actions = ["revoke"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    @admin.action(description=_("Revoke the selected tokens"))
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiToken]) -> None:
        user = access.request_user(request)
        for token in queryset:
            services.token_revoke(token=token, user=user)
        messages.success(request, _("Tokens revoked."))
