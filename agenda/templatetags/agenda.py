"""The agenda at a glance, for pages of other apps (the home page, an organization's profile):
they load this tag library and import nothing of the agenda."""

from __future__ import annotations

from typing import Any

from django import template

from agenda import selectors
from members.models import Organization

register = template.Library()


@register.inclusion_tag("agenda/_summary.html")
def agenda_summary(organization: Organization | None = None) -> dict[str, Any]:
    summary = selectors.agenda_summary(organization=organization)
    awaiting = [] if organization is not None else list(selectors.proposals_awaiting()[:5])
    latest = [] if organization is not None else list(selectors.proposals_public(status="open")[:5])
    return {
        "summary": summary,
        "organization": organization,
        "awaiting": awaiting,
        "latest": latest,
    }
