"""Demo outreach: sample contacts (reserved example domains), a letter wave, a reply, deliveries."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from django.db import transaction
from django.utils import timezone

from campaigns import joint
from campaigns.models import Campaign, Signature
from members.models import Membership
from outreach import services
from outreach.importing import contacts_import_csv, contacts_import_mep_xml
from outreach.models import Contact, LetterCampaign

SAMPLES = Path(__file__).resolve().parent / "samples"
LETTER_EN = """Dear {target_name},

I live in {signer_country} and I hold a Russian passport. {campaign_title}: banks keep closing
the accounts of people like me who live here legally, although the Payment Accounts Directive
gives every legal resident the right to a basic account.

{personal_message}

Please make sure the Directive is applied as written.

Yours sincerely,
{signer_name}"""


@transaction.atomic
def seed() -> None:
    contacts_import_csv((SAMPLES / "contacts.csv").read_bytes())
    contacts_import_mep_xml((SAMPLES / "meps.xml").read_bytes())
    campaign = Campaign.objects.filter(slug__startswith="a-bank-account-for-every").first()
    if campaign is None or campaign.letters.exists():
        return
    petition = campaign.petitions.get()
    letter_campaign = LetterCampaign.objects.create(
        campaign=campaign,
        petition=petition,
        subject_en="{campaign_title}",
        body_en=LETTER_EN,
        targeting=LetterCampaign.Targeting.TOPIC,
        topic="banking",
        starts_at=timezone.now() - timedelta(days=1),
    )
    # Every co-sponsor's admin approves it (a joint act): only then may signers send it.
    admins = [
        (cs.organization, cs.organization.memberships.filter(role=Membership.Role.ADMIN)[0].user)
        for cs in campaign.cosponsorships.filter(status="accepted").order_by("pk")
    ]
    act = services.letter_campaign_propose(
        letter_campaign=letter_campaign, organization=admins[0][0], user=admins[0][1]
    )
    for organization, approver in admins[1:]:
        joint.joint_act_answer(act=act, organization=organization, user=approver, approve=True)
    letter_campaign.refresh_from_db()
    signers = Signature.objects.filter(petition=petition, status=Signature.Status.CONFIRMED)
    for signature in signers.order_by("pk")[:5]:
        services.letters_send(
            letter_campaign=letter_campaign,
            signature=signature,
            personal_message="My account was closed in March without explanation.",
        )
    fisma = Contact.objects.get(external_id="demo:fisma-b3")
    services.reply_record(
        campaign_id=campaign.pk,
        organization=campaign.cosponsorships.order_by("pk")[0].organization,
        contact=fisma,
        summary="Thank you for your letter. The Commission is assessing how banks apply the "
        "Payment Accounts Directive to third-country nationals and will publish guidance.",
        received_at=timezone.now() - timedelta(hours=3),
    )
    # A milestone delivery every co-sponsor approved: it goes out once.
    targets = list(Contact.objects.filter(institution=Contact.Institution.COMMISSION))
    reached = services.delivery_prepare(petition=petition, targets=targets, milestone=100)
    services.delivery_prepare(petition=petition, targets=targets, milestone=1000)
    for cosponsorship in campaign.cosponsorships.filter(status="accepted"):
        admin = cosponsorship.organization.memberships.filter(role=Membership.Role.ADMIN)[0]
        services.delivery_approve(
            delivery=reached, organization=cosponsorship.organization, user=admin.user
        )
    services.delivery_send_if_ready(delivery=reached)
