from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EvidenceConfig(AppConfig):
    name = "evidence"
    verbose_name = _("Case reports and evidence")

    def ready(self) -> None:
        # evidence reacts to the other apps; they never import it (one-way dependencies).
        from evidence.services import hooks_register

        hooks_register()
