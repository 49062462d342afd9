from __future__ import annotations

from django.urls import path

from outbox import views

app_name = "outbox"

urlpatterns = [
    path("u/<str:token>", views.unsubscribe, name="unsubscribe"),
]
