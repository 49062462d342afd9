"""Site-wide pages and operational endpoints. Domain pages live in their apps."""

from __future__ import annotations

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache

from campaigns import selectors as campaign_selectors
from coalition import devmail, health
from foundation.ratelimit import too_many_requests
from members import selectors as member_selectors


def home(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "home.html",
        {
            "member_count": member_selectors.organizations_members().count(),
            "recent_decisions": member_selectors.decisions_ledger()[:5],
            "campaigns": campaign_selectors.campaigns_public(status="live")[:6],
        },
    )


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    return render(request, "403_csrf.html", status=403)


def handler429(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return too_many_requests(request)


@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    # Public: the answer names no component, version, vendor or worker count; what failed is
    # in the log (coalition.health).
    if health.healthy():
        return JsonResponse({"status": "ok"})
    return JsonResponse({"status": "degraded"}, status=503)


@never_cache
def dev_mailbox(request: HttpRequest) -> HttpResponse:
    """Development only (debug mode with the development mail backend): the mail folder, newest
    first, bodies decoded and links clickable. Anywhere else this page does not exist."""
    if not devmail.mailbox_enabled():
        raise Http404
    return render(
        request,
        "dev_mailbox.html",
        {"messages_sent": devmail.mailbox_read(), "mail_dir": settings.MAIL_DIR},
    )
