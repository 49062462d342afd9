from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OutreachConfig(AppConfig):
    name = "outreach"
    verbose_name = _("Outreach to EU contacts")

    def ready(self) -> None:
        from outreach import services, webhooks

        services.register_failure_hooks()
        webhooks.connect()
