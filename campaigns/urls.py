from __future__ import annotations

from django.urls import path

from campaigns import pow, views

app_name = "campaigns"

urlpatterns = [
    path("campaigns/", views.campaign_list, name="list"),
    path("campaigns/<slug:slug>/", views.campaign_detail, name="campaign"),
    path("campaigns/<slug:slug>/history/", views.campaign_history, name="history"),
    # Before petitions/<slug>/, which would otherwise take "pow-challenge" for a petition's slug.
    path("petitions/pow-challenge/", pow.challenge_view, name="pow_challenge"),
    path("petitions/<slug:slug>/", views.petition_detail, name="petition"),
    path("petitions/<slug:slug>/sent/", views.sign_sent, name="sign_sent"),
    path("embed/petitions/<slug:slug>/", views.petition_embed, name="embed"),
    path(
        "og/<slug:kind>/<slug:slug>/<slug:lang>/<slug:digest>.png",
        views.link_preview_image,
        name="og_image",
    ),
    path("evidence/<int:pk>/", views.outcome_evidence, name="evidence"),
    path("signatures/confirm/<str:token>/", views.signature_confirm, name="confirm"),
    path("signatures/not-me/<str:token>/", views.signature_not_me, name="not_me"),
    path("signatures/withdraw/<str:token>/", views.signature_withdraw, name="withdraw"),
    path("organizations/<slug:org>/campaigns/", views.dashboard, name="dashboard"),
    path("organizations/<slug:org>/campaigns/new/", views.campaign_create, name="create"),
    path("organizations/<slug:org>/campaigns/<slug:slug>/", views.campaign_manage, name="manage"),
    path("organizations/<slug:org>/campaigns/<slug:slug>/edit/", views.campaign_edit, name="edit"),
    path(
        "organizations/<slug:org>/campaigns/<slug:slug>/petitions/new/",
        views.petition_create,
        name="petition_create",
    ),
    path(
        "organizations/<slug:org>/campaigns/<slug:slug>/close/", views.campaign_close, name="close"
    ),
    path(
        "organizations/<slug:org>/campaigns/<slug:slug>/acts/<int:pk>/answer/",
        views.act_answer,
        name="act_answer",
    ),
    path(
        "organizations/<slug:org>/campaigns/<slug:slug>/acts/<int:pk>/withdraw/",
        views.act_withdraw,
        name="act_withdraw",
    ),
    path(
        "organizations/<slug:org>/campaigns/<slug:slug>/outcomes/new/",
        views.outcome_create,
        name="outcome_create",
    ),
    path(
        "organizations/<slug:org>/campaigns/<slug:slug>/supporters.csv",
        views.supporters_export,
        name="export",
    ),
    path(
        "organizations/<slug:org>/campaigns/<slug:slug>/<str:action>/",
        views.campaign_action,
        name="action",
    ),
]
