from __future__ import annotations

from django.urls import path

from evidence import views

app_name = "evidence"

urlpatterns = [
    path("cases/", views.index, name="index"),
    path("cases/report/<slug:area>/", views.report, name="report"),
    path("cases/sent/", views.sent, name="sent"),
    path("cases/confirm/<str:token>/", views.confirm, name="confirm"),
    path("cases/consents/<str:token>/", views.consents, name="consents"),
    path("cases/evidence/<slug:area>/", views.evidence, name="evidence"),
    path("cases/evidence/<slug:area>.<slug:fmt>", views.evidence_data, name="data"),
    path("cases/summaries/<int:pk>/", views.summary, name="summary"),
    path("organizations/<slug:org>/cases/", views.moderation, name="moderation"),
    path("organizations/<slug:org>/cases/log/", views.moderation_log, name="log"),
    path("organizations/<slug:org>/cases/lists/", views.terms, name="terms"),
    path("organizations/<slug:org>/cases/lists/retire/", views.term_retire, name="term_retire"),
    path("organizations/<slug:org>/cases/desks/", views.desks, name="desks"),
    path("organizations/<slug:org>/cases/summaries/", views.summaries, name="summaries"),
    path("organizations/<slug:org>/cases/<int:pk>/", views.moderation_report, name="report_review"),
    path(
        "organizations/<slug:org>/cases/<int:pk>/account/",
        views.moderation_account,
        name="account",
    ),
    path(
        "organizations/<slug:org>/cases/<int:pk>/contact/",
        views.moderation_contact,
        name="contact",
    ),
]
