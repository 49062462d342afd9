"""High security for a campaign whose signers are at particular risk (issue 16).

When it is on, the sign form asks for no city and shows no names (every signature anonymous),
and signers' personal data is deleted ``HIGH_SECURITY_RETENTION_AFTER_CLOSE`` after the campaign
closes instead of ``PERSONAL_DATA_RETENTION_AFTER_CLOSE`` (privacy/services.py).

Who may switch it:

- **On**: an admin of any co-sponsor with two-factor sign-in, whose organization is a member
  of the coalition (the view asks ``signer_data=True``), at any time: it only protects signers
  more. Switching it on also anonymizes the signatures already given (city dropped, name no
  longer shown) and cannot be undone, so every other admin of every co-sponsor is mailed who
  switched it on and when (a stolen password is noticed). The campaign row is locked FOR UPDATE
  while it switches; ``signature_create`` reads the flag under FOR KEY SHARE of the same row,
  so a signature made meanwhile waits and is stored without city and name.
- **Off**: only while nobody has signed, and only as a joint act every co-sponsor's admin
  approves (campaigns/joint.py). Once anyone signed, never: they signed under its promise, and a
  hostile insider or a stolen password must not be able to take it back. The act's effect checks
  again, so a signature arriving while the act waits keeps it on.
"""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from campaigns import joint, page_cache
from campaigns.models import Campaign, JointAct, Signature
from campaigns.services._common import (
    ADMIN_ONLY,
    EDITOR_ROLES,
    CampaignConflict,
    _require_cosponsor,
    _require_role,
)
from members.models import Membership, Organization, User
from members.services import organization_language
from outbox.services import email_enqueue_template

HIGH_SECURITY_OFF_ACT = "high_security_off"


def _signed(campaign: Campaign) -> bool:
    return Signature.objects.filter(petition__campaign=campaign).exists()


@transaction.atomic
def campaign_high_security_on(
    *, campaign: Campaign, organization: Organization, user: User
) -> Campaign:
    """Switch high security on (an admin of a co-sponsor) and anonymize what was given so far."""
    _require_role(user, organization, ADMIN_ONLY)
    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
    _require_cosponsor(campaign, organization)
    if campaign.high_security:
        return campaign
    campaign.high_security = True
    campaign.save(update_fields=["high_security"])
    # Row by row: the city is encrypted per value, and a bulk update would store it unencrypted
    # through no field at all. Few campaigns switch, once.
    for signature in Signature.objects.select_for_update().filter(petition__campaign=campaign):
        signature.city = ""
        signature.display = Signature.Display.ANONYMOUS
        signature.save(update_fields=["city", "display"])
    page_cache.public_pages_changed(campaign_ids=[campaign.pk])
    _mail_switched_on(campaign=campaign, organization=organization, user=user)
    return campaign


def _mail_switched_on(*, campaign: Campaign, organization: Organization, user: User) -> None:
    """Every admin of every co-sponsor but the one who did it hears who switched it on, and
    when: it cannot be undone, so a stolen password used for it must at least be noticed."""
    memberships = (
        Membership.objects.filter(
            organization_id__in=joint.cosponsor_ids(campaign), role=Membership.Role.ADMIN
        )
        .exclude(user=user)
        .select_related("user", "organization")
    )
    when = timezone.now()
    for membership in memberships:
        language = organization_language(membership.organization)
        email_enqueue_template(
            kind="campaigns.high_security_on",
            to=membership.user.email,
            template="campaigns/email/high_security_on",
            context={
                "campaign": campaign,
                "organization": membership.organization,
                "actor": user,
                "actor_organization": organization,
                "when": when,
                "manage_url": settings.SITE_URL
                + reverse("campaigns:manage", args=[membership.organization.slug, campaign.slug]),
            },
            language=language,
        )


def campaign_high_security_off_propose(
    *, campaign: Campaign, organization: Organization, user: User
) -> JointAct:
    """Propose switching it off: every co-sponsor's admin must approve, before anyone signs."""
    _require_role(user, organization, EDITOR_ROLES)
    campaign = Campaign.objects.get(pk=campaign.pk)
    if not campaign.high_security:
        raise CampaignConflict(_("High security is not on for this campaign."))
    if _signed(campaign):
        raise CampaignConflict(
            _("High security stays on: people have signed under its protection.")
        )
    return joint.joint_act_propose(
        campaign=campaign,
        organization=organization,
        user=user,
        kind=HIGH_SECURITY_OFF_ACT,
        rule=JointAct.Rule.UNANIMOUS,
        description=lambda: _(
            "Switch high security off: the sign form asks for the city again and signers may "
            "show their names; personal data is kept for the usual time after closing."
        ),
    )


def _off_effect(act: JointAct) -> None:
    campaign = Campaign.objects.select_for_update().get(pk=act.campaign_id)
    if _signed(campaign):
        raise joint.JointActError(
            _("High security stays on: people have signed under its protection.")
        )
    campaign.high_security = False
    campaign.save(update_fields=["high_security"])
    page_cache.public_pages_changed(campaign_ids=[campaign.pk])


def register_joint_effects() -> None:
    joint.joint_act_kind_register(kind=HIGH_SECURITY_OFF_ACT, effect=_off_effect)
