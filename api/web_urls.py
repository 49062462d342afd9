from __future__ import annotations

from django.urls import path

from api import web_views

app_name = "api_tokens"

urlpatterns = [
    path("organizations/<slug:slug>/api-tokens/", web_views.tokens, name="tokens"),
    path(
        "organizations/<slug:slug>/api-tokens/<int:pk>/revoke/",
        web_views.token_revoke,
        name="revoke",
    ),
]
