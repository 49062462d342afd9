from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ResultsConfig(AppConfig):
    """Figures, dashboards and the public track record, read from every other app."""

    name = "results"
    verbose_name = _("Results and track record")
