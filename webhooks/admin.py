"""Staff see each endpoint's and delivery's fate, read-only; never a secret or a body (a body may
carry a signer's name and address). Organizations manage their endpoints themselves."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from webhooks.models import Delivery, Endpoint


class _ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Endpoint)
class EndpointAdmin(_ReadOnly):
    list_display = fields = (
        "organization",
        "url",
        "events",
        "seal_personal_data",
        "is_active",
        "disabled_at",
        "disabled_reason",
        "consecutive_failures",
        "last_success_at",
        "created_at",
    )
    list_filter = ["is_active"]
    list_select_related = ["organization"]


@admin.register(Delivery)
class DeliveryAdmin(_ReadOnly):
    list_display = fields = (
        "event_id",
        "event_type",
        "endpoint",
        "status",
        "attempts",
        "last_status_code",
        "last_error",
        "occurred_at",
        "next_attempt_at",
        "delivered_at",
    )
    list_filter = ["status", "event_type"]
