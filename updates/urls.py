from __future__ import annotations

from django.urls import path

from updates import views

app_name = "updates"

_BASE = "organizations/<slug:org>/campaigns/<slug:slug>/updates/"

urlpatterns = [
    path(_BASE, views.update_list, name="list"),
    path(_BASE + "new/", views.update_create, name="create"),
    path(_BASE + "<int:pk>/edit/", views.update_edit, name="edit"),
    path(_BASE + "<int:pk>/preview/", views.update_preview, name="preview"),
    path(_BASE + "<int:pk>/propose/", views.update_propose, name="propose"),
    path(_BASE + "from-outcome/<int:event>/", views.update_from_outcome, name="from_outcome"),
]
