"""Supporter exports: recorded before they stream, so the audit log never misses one."""

from __future__ import annotations

from campaigns.models import Campaign, SupporterExport
from campaigns.services._common import EDITOR_ROLES, _require_cosponsor, _require_role
from members.models import Organization, User

# --- supporter exports ------------------------------------------------------------------------


def supporter_export_start(
    *, campaign: Campaign, organization: Organization, user: User
) -> SupporterExport:
    """Record an export before it streams: the audit log never misses one."""
    _require_role(user, organization, EDITOR_ROLES)
    _require_cosponsor(campaign, organization)
    return SupporterExport.objects.create(
        campaign=campaign, organization=organization, exported_by=user
    )


def supporter_export_finish(*, export: SupporterExport, rows: int) -> None:
    SupporterExport.objects.filter(pk=export.pk).update(row_count=rows)
