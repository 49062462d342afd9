from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PrivacyConfig(AppConfig):
    """Signers' personal data: encryption at rest, retention, erasure, the privacy page."""

    name = "privacy"
    verbose_name = _("Privacy")
