from __future__ import annotations

from django.urls import path, re_path

from api import views

app_name = "api"

urlpatterns = [
    path("petitions", views.petition_list, name="petitions"),
    path("petitions/<slug:slug>", views.petition_detail, name="petition"),
    path("petitions/<slug:slug>/signatures", views.signature_create, name="signatures"),
    path("openapi.json", views.openapi, name="openapi"),
    # Last: anything else under the API is a 404 problem document (see views.not_found).
    re_path(r"^(?P<path>.*)$", views.not_found, name="not_found"),
]
