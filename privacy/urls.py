from __future__ import annotations

from django.urls import path

from privacy import views

app_name = "privacy"

urlpatterns = [
    path("privacy/", views.privacy_page, name="privacy"),
    path("privacy/erase/<str:token>/", views.erase, name="erase"),
]
