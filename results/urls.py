from __future__ import annotations

from django.urls import path

from results import views

app_name = "results"

urlpatterns = [
    path("results/", views.results_page, name="results"),
    path("staff-figures/", views.staff_figures, name="staff_figures"),
    path(
        "organizations/<slug:org>/campaigns/<slug:slug>/dashboard/",
        views.campaign_dashboard,
        name="campaign_dashboard",
    ),
]
