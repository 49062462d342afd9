"""Organization API tokens: create, revoke, authenticate; and the access log of API reads."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from api.models import ApiToken
from campaigns.models import SupporterExport
from foundation.errors import DomainError
from members.access import admin_backs
from members.models import Organization, User

TOKEN_PREFIX = "coa_"  # noqa: S105 - the public start of every token, not a secret
# coa_<12 hex: the public id>_<43 url-safe base64 characters: 256 random bits>
_TOKEN = re.compile(r"^coa_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$")
# last_used_at is for people ("still in use?"), not an audit trail: one write a minute is enough,
# and a sync paging through thousands of people must not write a row per page.
LAST_USED_RESOLUTION = timedelta(minutes=1)


class TokenError(DomainError):
    """A rule about tokens was broken; the message is shown to the admin who tried."""


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@transaction.atomic
def token_create(
    *, organization: Organization, user: User, name: str, read: bool, write: bool
) -> tuple[ApiToken, str]:
    """A new token and its plain text, which is shown once and never stored."""
    if not (read or write):
        raise TokenError(_("Choose at least one scope."))
    if organization.status != Organization.Status.MEMBER:
        raise TokenError(_("Only member organizations can use the API."))
    # Lock the organization: two concurrent requests must not both pass the count below.
    Organization.objects.select_for_update().filter(pk=organization.pk).first()
    active = ApiToken.objects.filter(organization=organization, revoked_at__isnull=True)
    if active.count() >= settings.API_TOKENS_PER_ORGANIZATION:
        raise TokenError(
            _("Your organization has %(n)d active tokens, the most allowed. Revoke one first.")
            % {"n": settings.API_TOKENS_PER_ORGANIZATION}
        )
    prefix = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        organization=organization,
        name=name.strip(),
        can_read=read,
        can_write=write,
        prefix=prefix,
        digest=_digest(secret),
        created_by=user,
    )
    return token, f"{TOKEN_PREFIX}{prefix}_{secret}"


def token_revoke(*, token: ApiToken, user: User) -> None:
    """Revoke for good; revoking twice keeps the first time and person."""
    ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(
        revoked_at=timezone.now(), revoked_by=user
    )


def token_authenticate(raw: str) -> ApiToken | None:
    """The live token this text is, or None: malformed, unknown, revoked or no longer backed.

    A token works only while its organization is a member and the admin who created it is still
    an admin there: a person removed from the team cannot go on reading supporters with a
    token they copied on their way out.
    """
    match = _TOKEN.fullmatch(raw.strip())
    if match is None:
        return None
    prefix, secret = match.groups()
    token = (
        ApiToken.objects.select_related("organization", "created_by")
        .filter(prefix=prefix, revoked_at__isnull=True)
        .first()
    )
    if token is None or not hmac.compare_digest(token.digest, _digest(secret)):
        return None
    if not token_is_backed(token):
        return None
    now = timezone.now()
    ApiToken.objects.filter(pk=token.pk).filter(
        Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - LAST_USED_RESOLUTION)
    ).update(last_used_at=now)
    return token


def token_is_backed(token: ApiToken) -> bool:
    return admin_backs(organization=token.organization, user=token.created_by)


def supporter_api_read_record(*, token: ApiToken, rows: dict[int, int]) -> None:
    """Log supporters read through the API: one row per campaign (id -> rows) and response.

    The same log as the CSV exports (campaigns.SupporterExport), so the co-sponsors and staff who
    watch it see these reads too.
    """
    SupporterExport.objects.bulk_create(
        [
            SupporterExport(
                campaign_id=campaign_id,
                organization=token.organization,
                exported_by=token.created_by,
                row_count=count,
                channel=SupporterExport.Channel.API,
                api_token=token.label[:140],
            )
            for campaign_id, count in sorted(rows.items())
            if count
        ]
    )
