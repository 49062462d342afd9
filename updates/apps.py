from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class UpdatesConfig(AppConfig):
    name = "updates"
    verbose_name = _("Campaign updates")

    def ready(self) -> None:
        from updates import services

        services.register()
