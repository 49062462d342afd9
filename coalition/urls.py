from __future__ import annotations

from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.urls import include, path

from coalition import views

handler429 = "coalition.views.handler429"

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("accounts/", include("allauth.urls")),
    path("staff/", admin.site.urls),
    # Provider webhooks (bounces, complaints, inbound replies); anymail checks each provider's
    # signature or the ANYMAIL_WEBHOOK_SECRET basic-auth credentials.
    path("anymail/", include("anymail.urls")),
    path("api/v1/", include("api.urls")),
    path("", include("members.urls")),
    path("", include("privacy.urls")),
    path("", include("results.urls")),
    path("", include("outreach.urls")),
    path("", include("campaigns.urls")),
]

# Uploaded campaign images. In production a reverse proxy serves MEDIA_ROOT (docs/deploy.md).
urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
