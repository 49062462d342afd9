"""Organization API tokens for the OSDI partner API (api/osdi.py).

The token itself is shown once and never stored: we keep its public prefix (to find the row
without comparing secrets across the table) and a SHA-256 digest of its secret part. The secret
holds 256 random bits, so a plain hash is enough: nobody can search that space from a leaked
table, and no key has to be rotated with it.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from members.models import Organization


class ApiToken(models.Model):
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(_("name"), max_length=100)
    # Scopes: reading supporters and signing people up are separate powers. The token in a
    # web server's sign-up form needs only "write"; a CRM sync needs only "read".
    can_read = models.BooleanField(_("read supporters"), default=False)
    can_write = models.BooleanField(_("sign people up"), default=False)
    prefix = models.CharField(max_length=16, unique=True)
    digest = models.CharField(max_length=64)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(can_read=True) | models.Q(can_write=True),
                name="api_token_has_a_scope",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix})"

    @property
    def label(self) -> str:
        """How the access log names it: the name its organization chose and its public prefix."""
        return f"{self.name} (coa_{self.prefix}…)"

    @property
    def scopes(self) -> list[str]:
        return [
            scope for scope, held in (("read", self.can_read), ("write", self.can_write)) if held
        ]
