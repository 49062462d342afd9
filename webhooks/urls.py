from __future__ import annotations

from django.urls import path

from webhooks import views

app_name = "webhooks"

urlpatterns = [
    path("organizations/<slug:org>/webhooks/", views.endpoints, name="endpoints"),
    path("organizations/<slug:org>/webhooks/<int:pk>/", views.endpoint, name="endpoint"),
    path(
        "organizations/<slug:org>/webhooks/<int:pk>/rotate/",
        views.endpoint_rotate,
        name="endpoint_rotate",
    ),
    path(
        "organizations/<slug:org>/webhooks/<int:pk>/enable/",
        views.endpoint_enable,
        name="endpoint_enable",
    ),
    path(
        "organizations/<slug:org>/webhooks/<int:pk>/delete/",
        views.endpoint_delete,
        name="endpoint_delete",
    ),
    path(
        "organizations/<slug:org>/webhooks/<int:pk>/deliveries/<int:delivery>/replay/",
        views.delivery_replay,
        name="delivery_replay",
    ),
]
