"""Site-wide pages and operational endpoints. Domain pages live in their apps."""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache

from campaigns import selectors as campaign_selectors
from coalition.ratelimit import too_many_requests
from members import selectors as member_selectors

logger = logging.getLogger(__name__)


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


def _check_database() -> dict[str, Any]:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return {"ok": True, "vendor": connection.vendor}
    except Exception as exc:
        return {"ok": False, "error": type(exc).__name__}


def _check_redis() -> dict[str, Any]:
    if not settings.REDIS_URL:
        return {"ok": True, "mode": "embedded (not configured)"}
    import redis

    try:
        client = redis.Redis.from_url(
            settings.REDIS_URL, socket_connect_timeout=1, socket_timeout=1
        )
        client.ping()
        return {"ok": True}
    except Exception as exc:
        return {"ok": False, "error": type(exc).__name__}


def _check_worker() -> dict[str, Any]:
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return {"ok": True, "mode": "in-process"}
    from coalition.celery import app

    try:
        replies = app.control.inspect(timeout=1.0).ping() or {}
    except Exception as exc:
        return {"ok": False, "error": type(exc).__name__}
    return {"ok": bool(replies), "workers": len(replies)}


@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    checks = {
        "database": _check_database(),
        "redis": _check_redis(),
        "worker": _check_worker(),
    }
    healthy = all(check["ok"] for check in checks.values())
    if not healthy:
        logger.warning("health check failed", extra={"checks": checks})
    return JsonResponse(
        {"status": "ok" if healthy else "degraded", "checks": checks},
        status=200 if healthy else 503,
    )
