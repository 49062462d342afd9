from __future__ import annotations

from django.urls import path

from outreach import views

app_name = "outreach"

urlpatterns = [
    path("letters/<str:token>/", views.letter_send, name="letter"),
    path("letters/survey/<str:token>/<str:answer>/", views.survey, name="survey"),
    path(
        "organizations/<slug:org>/campaigns/<slug:slug>/outreach/",
        views.campaign_outreach,
        name="campaign",
    ),
    path(
        "organizations/<slug:org>/campaigns/<slug:slug>/outreach/letters/new/",
        views.letter_campaign_create,
        name="letter_campaign_create",
    ),
    path(
        "organizations/<slug:org>/campaigns/<slug:slug>/outreach/letters/<int:pk>/<str:action>/",
        views.letter_campaign_action,
        name="letter_campaign_action",
    ),
    path(
        "organizations/<slug:org>/campaigns/<slug:slug>/outreach/replies/new/",
        views.reply_add,
        name="reply_add",
    ),
    path(
        "organizations/<slug:org>/campaigns/<slug:slug>/outreach/replies/<int:pk>/",
        views.reply_review,
        name="reply",
    ),
    path(
        "organizations/<slug:org>/campaigns/<slug:slug>/outreach/deliveries/new/",
        views.delivery_create,
        name="delivery_create",
    ),
    path(
        "organizations/<slug:org>/campaigns/<slug:slug>/outreach/emails/<int:pk>/<str:action>/",
        views.email_action,
        name="email_action",
    ),
    path(
        "organizations/<slug:org>/campaigns/<slug:slug>/outreach/deliveries/<int:pk>/",
        views.delivery_approve,
        name="delivery",
    ),
]
