"""The staff figures' mail health: the spam-complaint rate of the last 7 days."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django import template
from django.utils import timezone

from outbox.suppression import complaints_and_sent

register = template.Library()

# Gmail's and Yahoo's bulk-sender rules: keep complaints under 0.1 %, never reach 0.3 %.
COMPLAINT_WARNING = 0.001


@register.inclusion_tag("outbox/_mail_health.html")
def mail_health() -> dict[str, Any]:
    complaints, sent = complaints_and_sent(since=timezone.now() - timedelta(days=7))
    rate = complaints / sent if sent else 0.0
    return {
        "complaints": complaints,
        "sent": sent,
        "percent": f"{100 * rate:.2f}",
        "warning": rate >= COMPLAINT_WARNING,
    }
