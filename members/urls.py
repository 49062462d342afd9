from __future__ import annotations

from django.urls import path

from members import views

app_name = "members"

urlpatterns = [
    path("members/", views.directory, name="directory"),
    path("members/<slug:slug>/", views.organization_detail, name="organization"),
    path("organizations/apply/", views.organization_apply, name="apply"),
    path("organizations/<slug:slug>/team/", views.team, name="team"),
    path(
        "organizations/<slug:slug>/team/<int:pk>/role/",
        views.membership_role,
        name="membership_role",
    ),
    path(
        "organizations/<slug:slug>/team/<int:pk>/remove/",
        views.membership_remove,
        name="membership_remove",
    ),
    path(
        "organizations/<slug:slug>/invitations/<int:pk>/revoke/",
        views.invitation_revoke,
        name="invitation_revoke",
    ),
    path("organizations/<slug:slug>/propose/", views.decision_propose, name="propose"),
    path("organizations/<slug:slug>/export-key/", views.export_key, name="export_key"),
    path("invitations/<str:token>/", views.invitation, name="invitation"),
    path("dashboard/", views.dashboard, name="dashboard"),
    path("decisions/", views.decision_list, name="decisions"),
    path("decisions/<int:pk>/", views.decision_detail, name="decision"),
]
