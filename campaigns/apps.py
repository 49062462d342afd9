from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CampaignsConfig(AppConfig):
    name = "campaigns"
    verbose_name = _("Campaigns")

    def ready(self) -> None:
        from campaigns.services import register_decision_effects
        from campaigns.services.security import register_joint_effects
        from campaigns.services.signatures import register_signer_mail

        register_decision_effects()
        register_joint_effects()
        register_signer_mail()
