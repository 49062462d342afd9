from __future__ import annotations

from django.urls import path

from agenda import views

app_name = "agenda"

urlpatterns = [
    path("agenda/", views.proposal_list, name="list"),
    path("agenda/new/", views.proposal_create, name="propose"),
    path("agenda/sent/", views.sent, name="sent"),
    path("agenda/confirm/<str:token>/", views.confirm, name="confirm"),
    path("agenda/<int:pk>/", views.proposal_detail, name="proposal"),
    path("agenda/<int:pk>/staff/", views.staff_moderate, name="staff_moderate"),
    path("organizations/<slug:org>/agenda/", views.workspace, name="workspace"),
    path("organizations/<slug:org>/agenda/<int:pk>/moderate/", views.moderate, name="moderate"),
    path("organizations/<slug:org>/agenda/<int:pk>/answer/", views.answer, name="answer"),
    path(
        "organizations/<slug:org>/agenda/motions/<int:pk>/<str:action>/",
        views.motion_action,
        name="motion_action",
    ),
]
