from __future__ import annotations

from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps
from django.utils.translation import gettext_lazy as _


class MembersConfig(AppConfig):
    name = "members"
    verbose_name = _("Coalition members")


class StaffAdminConfig(admin_apps.AdminConfig):
    """django.contrib.admin with our site (members/staff.py): signed into only through allauth."""

    # Imported as a module, and not a default: "members" in INSTALLED_APPS means MembersConfig.
    default = False
    default_site = "members.staff.StaffAdminSite"
