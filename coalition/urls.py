from __future__ import annotations

from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.urls import include, path

from api import osdi
from coalition import views
from members import views as member_views

handler429 = "coalition.views.handler429"

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("dev/mail/", views.dev_mailbox, name="dev-mailbox"),
    path("i18n/", include("django.conf.urls.i18n")),
    # allauth's set-up view, returning to where the person was going (members.views)
    path(
        "accounts/2fa/totp/activate/",
        member_views.TotpActivateView.as_view(),
        name="mfa_activate_totp",
    ),
    path("accounts/", include("allauth.urls")),
    path("staff/", admin.site.urls),
    path("api/v1/", include("api.urls")),
    path("api/osdi/v1/", include((osdi.urlpatterns(), "osdi"))),
    # Django tries the patterns in order, and the public petition and campaign pages are most
    # of the traffic: campaigns come early (issue 11). Only the apps with routes under a
    # campaign's workspace come first, where campaigns' "<action>/" would otherwise take their
    # "dashboard/", "outreach/" and "updates/". tests/test_urls.py checks that no pattern is
    # hidden behind another, whatever the order.
    path("", include("results.urls")),
    path("", include("outreach.urls")),
    path("", include("updates.urls")),
    path("", include("campaigns.urls")),
    path("", include("api.web_urls")),
    path("", include("members.urls")),
    path("", include("privacy.urls")),
    path("", include("webhooks.urls")),
    path("", include("outbox.urls")),
    path("", include("agenda.urls")),
    path("", include("evidence.urls")),
]

# Uploaded campaign images (development only; in production the reverse proxy serves them,
# docs/deploy.md). Evidence files are never served from /media/: they are downloaded as
# attachments through campaigns:evidence, here and in production.
urlpatterns += static(
    f"{settings.MEDIA_URL}campaigns/", document_root=settings.MEDIA_ROOT / "campaigns"
)

# Provider webhooks (bounces, complaints, inbound replies), mounted only for the provider in use
# and only with ANYMAIL_WEBHOOK_SECRET set: without it anyone could post a fake official reply.
if settings.ANYMAIL.get("WEBHOOK_SECRET") and settings.ANYMAIL_PROVIDER:
    from anymail import urls as anymail_urls

    provider_patterns = [
        p
        for p in anymail_urls.urlpatterns
        if str(p.name).startswith(settings.ANYMAIL_PROVIDER + "_")
    ]
    urlpatterns += [path("anymail/", include((provider_patterns, "anymail")))]
