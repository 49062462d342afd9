from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoalitionConfig(AppConfig):
    name = "coalition"
    verbose_name = _("Coalition")

    def ready(self) -> None:
        # Django 6.1's blank choice ("- Select an option -") has no Russian translation in
        # Django's own catalogue, so a Russian page showed it in English. Django reads this
        # module attribute whenever a form builds its choices (get_blank_choice_label), and
        # documents replacing it in ready(); ours is in our catalogue, so Russian is complete.
        from django.db.models import fields

        fields.BLANK_CHOICE_LABEL = _("Choose…")

        # A request whose Content-Type names a codec that decodes no text (rot13, base64, hex)
        # made Django's request constructor itself fail (its encoding setter decodes the query
        # string with it), before any middleware could answer: a 500 from bad input. Such a
        # charset is treated as unknown, as Django already treats names it cannot look up.
        from django.http import request as http_request

        from coalition.middleware import text_charset_only

        http_request.HttpRequest._set_content_type_params = text_charset_only  # type: ignore[attr-defined]
