"""Reads of campaign updates."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from campaigns.models import Campaign, JointAct, JointActAnswer
from updates.models import CampaignUpdate


@dataclass(frozen=True)
class PublicUpdate:
    update: CampaignUpdate
    sent_at: datetime | None
    approved_by: list[str]  # co-sponsors whose admin approved
    rule: str  # under no_objection, the others did not object in time


def updates_public(*, campaign: Campaign) -> list[PublicUpdate]:
    """Sent updates, newest first, with the co-sponsors who agreed: no signer, no count."""
    updates = (
        CampaignUpdate.objects.filter(
            campaign=campaign,
            status__in=[CampaignUpdate.Status.SENDING, CampaignUpdate.Status.SENT],
        )
        .select_related("act")
        .prefetch_related("act__answers__organization")
        .order_by("-sent_at", "-pk")
    )
    result = []
    for update in updates:
        act: JointAct | None = update.act
        approved = (
            [
                a.organization.name
                for a in act.answers.all()
                if a.answer == JointActAnswer.Answer.APPROVE
            ]
            if act
            else []
        )
        result.append(
            PublicUpdate(
                update=update,
                sent_at=update.sent_at,
                approved_by=approved,
                rule=act.rule if act else "",
            )
        )
    return result
