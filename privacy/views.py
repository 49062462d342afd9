from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache

from campaigns.signing import digest_from_token
from foundation.ratelimit import limit
from privacy import services


def _days(period: timedelta) -> int:
    return max(1, round(period.total_seconds() / 86400))


def privacy_page(request: HttpRequest) -> HttpResponse:
    """Says what is kept and for how long, from the very settings the deleting jobs read."""
    return render(
        request,
        "privacy/privacy.html",
        {
            "unconfirmed_days": _days(settings.SIGNATURE_CONFIRM_WITHIN),
            "after_close_days": _days(settings.PERSONAL_DATA_RETENTION_AFTER_CLOSE),
            "high_security_days": _days(settings.HIGH_SECURITY_RETENTION_AFTER_CLOSE),
            "sent_mail_days": _days(settings.SENT_MAIL_RETENTION),
            "webhook_days": _days(settings.WEBHOOKS_PAYLOAD_RETENTION),
            "report_confirm_days": _days(settings.EVIDENCE_CONFIRM_WITHIN),
            "report_rejected_days": _days(settings.EVIDENCE_REJECTED_RETENTION),
            "report_unreviewed_days": _days(settings.EVIDENCE_UNREVIEWED_RETENTION),
            "report_contact_days": _days(settings.EVIDENCE_CONTACT_RETENTION),
            "nojs_seconds": settings.NOJS_MIN_SECONDS,
        },
    )


@never_cache
def erase(request: HttpRequest, token: str) -> HttpResponse:
    """GET explains and asks; POST erases at once. Link scanners only ever GET."""
    digest = digest_from_token(token)
    if digest is None:
        return render(request, "privacy/erase.html", {"invalid": True}, status=400)
    if request.method == "POST":
        limit(request, scope="signer_link")
        services.signer_erase_by_digest(digest=digest)
        return render(request, "privacy/erase.html", {"done": True})
    return render(request, "privacy/erase.html", {})
