"""The only writers for EU contacts, letters, petition deliveries and replies.

Every message is an outbox row written in the same transaction as the letter or delivery that
causes it. Pacing is decided here, when the row is written: each contact has a next free slot,
so a burst of signers becomes a polite trickle per recipient, with no sleeping worker.
"""

from __future__ import annotations

import csv
import io
import random
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from allauth.account.models import EmailAddress
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django_countries import countries

from campaigns import joint
from campaigns import selectors as campaign_selectors
from campaigns.models import Campaign, CoSponsorship, JointAct, OutcomeEvent, Petition, Signature
from campaigns.services import after_confirm_register, outcome_system
from campaigns.signing import token_make
from foundation.csvsafe import csv_row
from foundation.errors import DomainError
from members.models import Membership, Organization, User
from outbox.models import Email
from outbox.services import (
    email_enqueue,
    email_enqueue_template,
    email_failure_hook_register,
    from_display,
)
from outbox.suppression import ALL as SUPPRESS_ALL
from outreach import selectors
from outreach.models import (
    Contact,
    Letter,
    LetterCampaign,
    PetitionDelivery,
    Reply,
)
from outreach.reply_text import redact, reply_clean
from outreach.templating import personal_message_errors, template_fill

NIGHT_HOURS = range(0, 7)  # local time of the recipient: 22:00-07:00 counts as night
NIGHT_HOURS_EVENING = range(22, 24)


class OutreachError(DomainError):
    """An outreach rule was broken; the message is shown to the person who tried."""


# --- pacing ------------------------------------------------------------------------------------


def _is_night(moment: datetime, time_zone: str) -> bool:
    try:
        local = moment.astimezone(ZoneInfo(time_zone))
    except ZoneInfoNotFoundError:
        local = moment.astimezone(ZoneInfo("Europe/Brussels"))
    return local.hour in NIGHT_HOURS or local.hour in NIGHT_HOURS_EVENING


def contact_next_slot(*, contact: Contact, hourly_cap: int, not_before: datetime) -> datetime:
    """Reserve the next sending slot for a contact. Call inside a transaction.

    Slots are spaced 3600/cap seconds apart (a third of the rate at night in the contact's time
    zone), with up to 20 % jitter so a wave does not arrive in lockstep.
    """
    locked = Contact.objects.select_for_update().get(pk=contact.pk)
    slot = max(locked.next_slot_at, not_before, timezone.now())
    spacing = 3600 / max(1, hourly_cap)
    if _is_night(slot, locked.time_zone):
        spacing *= settings.OUTREACH_NIGHT_SLOWDOWN
    jitter = random.uniform(0, 0.2 * spacing)  # noqa: S311 - spacing, not security
    locked.next_slot_at = slot + timedelta(seconds=spacing + jitter)
    locked.save(update_fields=["next_slot_at"])
    return slot


# --- letters -----------------------------------------------------------------------------------


def letter_targets(
    *, letter_campaign: LetterCampaign, signature: Signature | None = None, country: str = ""
) -> QuerySet[Contact]:
    """Who this signer's letter goes to, by the campaign's targeting rule.

    Without a signer (a test letter), country targeting takes matching contacts of any country.
    """
    contacts = Contact.objects.filter(status=Contact.Status.ACTIVE)
    country = str(signature.country) if signature is not None else country
    if letter_campaign.targeting == LetterCampaign.Targeting.FIXED:
        contacts = contacts.filter(pk__in=letter_campaign.targets.values("pk"))
    elif letter_campaign.targeting == LetterCampaign.Targeting.COUNTRY:
        if country:
            contacts = contacts.filter(country=country)
        if letter_campaign.institutions:
            contacts = contacts.filter(institution__in=letter_campaign.institutions)
    else:
        contacts = contacts.filter(topics__icontains=f'"{letter_campaign.topic}"')
    return contacts.order_by("institution", "name")


def letter_campaign_open(letter_campaign: LetterCampaign, now: datetime | None = None) -> bool:
    now = now or timezone.now()
    return letter_campaign.starts_at <= now and (
        letter_campaign.ends_at is None or now < letter_campaign.ends_at
    )


def _letter_language(contact: Contact, letter_campaign: LetterCampaign) -> str:
    for code in [*contact.languages, "en", "ru"]:
        if getattr(letter_campaign, f"subject_{code}", "") and getattr(
            letter_campaign, f"body_{code}", ""
        ):
            return str(code)
    return "en"


@dataclass(frozen=True)
class Signer:
    """The values of a signer that a letter may carry."""

    name: str
    city: str
    country_name: str


# Test letters are written by this made-up person: a co-sponsor checking the text never sees a
# real signer's data.
SAMPLE_SIGNER = Signer(name="Test Signer", city="Sampletown", country_name="Sampleland")
SAMPLE_WORDS = "(Here the signer's own words would appear, if they add any.)"


def signer_of(signature: Signature) -> Signer:
    return Signer(
        name=signature.name,
        city=signature.city,
        country_name=str(countries.name(signature.country)),
    )


@dataclass(frozen=True)
class RenderedLetter:
    contact: Contact
    language: str
    subject: str
    body: str
    from_name: str


def letter_render(
    *,
    letter_campaign: LetterCampaign,
    contact: Contact,
    signer: Signer,
    personal_message: str = "",
) -> RenderedLetter:
    """The letter exactly as it leaves for one target: the signer's page shows this, and
    ``letters_send`` sends this."""
    language = _letter_language(contact, letter_campaign)
    values = {
        "signer_name": signer.name,
        "signer_city": signer.city,
        "signer_country": signer.country_name,
        "target_name": contact.name,
        "target_title": contact.title,
        "personal_message": personal_message,
        "campaign_title": letter_campaign.campaign.title,
    }
    return RenderedLetter(
        contact=contact,
        language=language,
        subject=template_fill(getattr(letter_campaign, f"subject_{language}"), values),
        body=template_fill(getattr(letter_campaign, f"body_{language}"), values),
        from_name=f"{signer.name} via Coalition",
    )


@transaction.atomic
def letters_send(
    *,
    letter_campaign: LetterCampaign,
    signature: Signature,
    personal_message: str = "",
    reveal_email: bool = False,
) -> list[Letter]:
    """A confirmed signer sends the letter to every target; at most one letter per target.

    Only a letter campaign every co-sponsor approved, unchanged since, may carry a signer's
    letter, and it always goes to the real contact: test letters are ``letter_test_send``'s.
    """
    if signature.status != Signature.Status.CONFIRMED:
        raise OutreachError(_("Confirm your signature first."))
    if signature.petition_id != letter_campaign.petition_id:
        raise OutreachError(_("This letter belongs to another petition."))
    letter_campaign = LetterCampaign.objects.select_for_update().get(pk=letter_campaign.pk)
    if not selectors.letter_campaign_is_approved(letter_campaign):
        raise OutreachError(
            _("This letter has not been approved by every co-sponsor, so it cannot be sent.")
        )
    if not letter_campaign_open(letter_campaign):
        raise OutreachError(_("This letter campaign is not sending now."))
    personal_message = personal_message.strip()
    problems = personal_message_errors(personal_message, letter_campaign.max_personal_length)
    if problems:
        raise OutreachError(_("Your own words: %(problems)s.") % {"problems": "; ".join(problems)})
    _letter_wave_event(letter_campaign)
    signer = signer_of(signature)
    letters = []
    for contact in letter_targets(letter_campaign=letter_campaign, signature=signature):
        if Letter.objects.filter(
            letter_campaign=letter_campaign, signer_digest=signature.email_digest, contact=contact
        ).exists():
            continue
        rendered = letter_render(
            letter_campaign=letter_campaign,
            contact=contact,
            signer=signer,
            personal_message=personal_message,
        )
        email = email_enqueue(
            kind="outreach.letter",
            bulk=True,
            to=contact.email,
            subject=rendered.subject,
            body_text=rendered.body + "\n",
            # Replies come to the platform's letters address (the inbound webhook cleans and
            # holds them for review), never to an address a co-sponsor could choose.
            reply_to=signature.email if reveal_email else settings.OUTREACH_FROM_ADDRESS,
            from_email=from_display(rendered.from_name, settings.OUTREACH_FROM_ADDRESS),
            send_at=contact_next_slot(
                contact=contact,
                hourly_cap=letter_campaign.hourly_cap,
                not_before=letter_campaign.starts_at,
            ),
        )
        try:
            with transaction.atomic():
                letters.append(
                    Letter.objects.create(
                        letter_campaign=letter_campaign,
                        signature=signature,
                        signer_digest=signature.email_digest,
                        contact=contact,
                        email=email,
                        reveal_email=reveal_email,
                    )
                )
        except IntegrityError:
            email.delete()  # a concurrent request sent this one already
    return letters


TEST_LETTERS_AT_MOST = 5
LETTER_APPROVAL_ACT = "outreach.letter_campaign"


def _require_cosponsor_editor(
    campaign_id: int, organization: Organization, user: User
) -> CoSponsorship:
    cosponsorship = CoSponsorship.objects.filter(
        campaign_id=campaign_id, organization=organization, status=CoSponsorship.Status.ACCEPTED
    ).first()
    if cosponsorship is None:
        raise OutreachError(_("Only the campaign's co-sponsors can do this."))
    if not Membership.objects.filter(
        user=user,
        organization=organization,
        role__in=[Membership.Role.ADMIN, Membership.Role.EDITOR],
    ).exists():
        raise OutreachError(_("You cannot act for %(name)s.") % {"name": organization.name})
    return cosponsorship


@transaction.atomic
def letter_campaign_create(
    *,
    campaign: Campaign,
    organization: Organization,
    user: User,
    petition: Petition,
    subject_en: str = "",
    body_en: str = "",
    subject_ru: str = "",
    body_ru: str = "",
    targeting: str = LetterCampaign.Targeting.FIXED,
    targets: Iterable[Contact] = (),
    institutions: Sequence[str] = (),
    topic: str = "",
    max_personal_length: int = 600,
    hourly_cap: int = 30,
    starts_at: datetime | None = None,
    ends_at: datetime | None = None,
) -> LetterCampaign:
    """A co-sponsor drafts a letter campaign and asks every co-sponsor to approve it.

    It starts as a draft (test mode): signers are not led to it and cannot send it until every
    co-sponsor's admin approved this exact content. The approval and the mode are never inputs.
    """
    _require_cosponsor_editor(campaign.pk, organization, user)
    if petition.campaign_id != campaign.pk:
        raise OutreachError(_("Choose a petition of this campaign."))
    letter_campaign = LetterCampaign.objects.create(
        campaign=campaign,
        test_mode=True,  # a new letter campaign is always a draft
        petition=petition,
        subject_en=subject_en,
        body_en=body_en,
        subject_ru=subject_ru,
        body_ru=body_ru,
        targeting=targeting,
        institutions=list(institutions),
        topic=topic,
        max_personal_length=max_personal_length,
        hourly_cap=hourly_cap,
        starts_at=starts_at or timezone.now(),
        ends_at=ends_at,
    )
    letter_campaign.targets.set(list(targets))
    letter_campaign_propose(letter_campaign=letter_campaign, organization=organization, user=user)
    return letter_campaign


@transaction.atomic
def letter_campaign_propose(
    *, letter_campaign: LetterCampaign, organization: Organization, user: User
) -> JointAct:
    """Ask every co-sponsor to approve the letter campaign as it is now (a UNANIMOUS act)."""
    _require_cosponsor_editor(letter_campaign.campaign_id, organization, user)
    letter_campaign = LetterCampaign.objects.select_for_update().get(pk=letter_campaign.pk)
    if selectors.letter_campaign_is_approved(letter_campaign):
        raise OutreachError(_("Every co-sponsor has already approved this letter."))
    subject = letter_campaign.subject_en or letter_campaign.subject_ru
    try:
        return joint.joint_act_propose(
            campaign=letter_campaign.campaign,
            organization=organization,
            user=user,
            kind=LETTER_APPROVAL_ACT,
            rule=JointAct.Rule.UNANIMOUS,
            subject_id=letter_campaign.pk,
            payload={"fingerprint": selectors.letter_campaign_fingerprint(letter_campaign)},
            description=lambda: (
                _(
                    "Let signers send the letter “%(subject)s” (letter campaign no. %(n)d) to its "
                    "recipients. Ask for a test letter before approving."
                )
                % {"subject": subject, "n": letter_campaign.pk}
            ),
        )
    except joint.JointActError as exc:
        raise OutreachError(str(exc)) from exc


def _letter_campaign_approved(act: JointAct) -> None:
    """Effect of the approval: live, if the content is still what the co-sponsors approved."""
    letter_campaign = LetterCampaign.objects.select_for_update().filter(pk=act.subject_id).first()
    if letter_campaign is None:
        raise joint.JointActError(_("The letter campaign no longer exists."))
    fingerprint = selectors.letter_campaign_fingerprint(letter_campaign)
    if fingerprint != act.payload.get("fingerprint"):
        raise joint.JointActError(
            _("The letter changed after it was proposed; it must be proposed again.")
        )
    letter_campaign.approved_fingerprint = fingerprint
    letter_campaign.approved_at = timezone.now()
    letter_campaign.test_mode = False
    letter_campaign.save(update_fields=["approved_fingerprint", "approved_at", "test_mode"])


def letter_campaign_status(letter_campaign: LetterCampaign) -> str:
    """approved, changed (approved once, edited since), or draft."""
    if selectors.letter_campaign_is_approved(letter_campaign):
        return "approved"
    return "changed" if letter_campaign.approved_fingerprint else "draft"


def test_letter_addresses(*, user: User, cosponsorship: CoSponsorship) -> list[str]:
    """Where "send me a test" may write: the person's own verified account addresses (primary
    first), then the co-sponsorship's registered test address (set by staff)."""
    addresses = list(
        EmailAddress.objects.filter(user=user, verified=True)
        .order_by("-primary", "pk")
        .values_list("email", flat=True)
    )
    if cosponsorship.test_email:
        addresses.append(cosponsorship.test_email)
    return addresses


@transaction.atomic
def letter_test_send(
    *, letter_campaign: LetterCampaign, organization: Organization, user: User, to: str = ""
) -> list[Email]:
    """ "Send me a test": the letter as the first targets would get it, from a made-up sample
    signer, to the asking person's own verified address. No real signer's data is ever in it,
    and it never goes to an address typed in: our domain would send the coalition's letter to
    anyone's mailbox."""
    cosponsorship = _require_cosponsor_editor(letter_campaign.campaign_id, organization, user)
    allowed = test_letter_addresses(user=user, cosponsorship=cosponsorship)
    if not allowed:
        raise OutreachError(
            _("Verify your account's email address first: test letters go only to you.")
        )
    asked = to.strip().lower()
    if asked and asked not in {address.lower() for address in allowed}:
        raise OutreachError(
            _(
                "Test letters go only to your own verified address (%(own)s), not to an address "
                "typed in. Nothing was sent."
            )
            % {"own": allowed[0]}
        )
    to = next((address for address in allowed if address.lower() == asked), allowed[0])
    emails = []
    targets = letter_targets(letter_campaign=letter_campaign)[:TEST_LETTERS_AT_MOST]
    for contact in targets:
        rendered = letter_render(
            letter_campaign=letter_campaign,
            contact=contact,
            signer=SAMPLE_SIGNER,
            personal_message=SAMPLE_WORDS,
        )
        emails.append(
            email_enqueue(
                kind="outreach.letter_test",
                to=to,
                subject=f"[TEST → {contact.name}] {rendered.subject}",
                body_text=rendered.body + "\n",
                reply_to=settings.OUTREACH_FROM_ADDRESS,
                from_email=from_display(rendered.from_name, settings.OUTREACH_FROM_ADDRESS),
            )
        )
    if not emails:
        raise OutreachError(_("No active recipient matches this letter yet."))
    return emails


def _letter_wave_event(letter_campaign: LetterCampaign) -> None:
    """The first letters of a letter campaign each day make one "letter wave" on the timeline."""
    today = timezone.localdate()
    if not OutcomeEvent.objects.filter(
        campaign_id=letter_campaign.campaign_id,
        kind=OutcomeEvent.Kind.LETTER_WAVE,
        date=today,
        link=f"letters:{letter_campaign.pk}",
    ).exists():
        campaign = letter_campaign.campaign
        title_en, title_ru = (
            campaign.title_en or campaign.title,
            campaign.title_ru or campaign.title,
        )
        outcome_system(
            campaign_id=letter_campaign.campaign_id,
            kind=OutcomeEvent.Kind.LETTER_WAVE,
            description_en=f"Signers are writing to decision-makers about “{title_en}”"[:500],
            description_ru=f"Подписавшие пишут адресатам о кампании «{title_ru}»"[:500],
            link=f"letters:{letter_campaign.pk}",
        )


def letter_to_blocked_contact_check(*, contact: Contact) -> None:
    if contact.status in {Contact.Status.BLOCKED, Contact.Status.UNSUBSCRIBED}:
        raise OutreachError(_("%(name)s does not accept letters.") % {"name": contact.name})


def _mark_bouncing(email: Email) -> None:
    """Permanent failure of a letter or delivery: the contact's address is bad."""
    if email.kind == "outreach.letter_test":
        return  # it went to the co-sponsors' test address, not to a contact
    contact_ids = list(Letter.objects.filter(email=email).values_list("contact_id", flat=True))
    if not contact_ids:
        contact_ids = list(
            Contact.objects.filter(email__iexact=email.to).values_list("pk", flat=True)
        )
    Contact.objects.filter(pk__in=contact_ids, status=Contact.Status.ACTIVE).update(
        status=Contact.Status.BOUNCING
    )


def _letter_url_after_confirm(signature: Signature) -> str | None:
    """Signers are led only to an approved, unchanged, open letter campaign."""
    if selectors.letter_campaign_for_signature(signature=signature) is None:
        return None
    return reverse("outreach:letter", args=[token_make(signature.pk, "letter")])


def register_failure_hooks() -> None:
    email_failure_hook_register(kind_prefix="outreach.", hook=_mark_bouncing)
    after_confirm_register(_letter_url_after_confirm)
    joint.joint_act_kind_register(kind=LETTER_APPROVAL_ACT, effect=_letter_campaign_approved)
    joint.joint_act_kind_register(kind=DELIVERY_APPROVAL_ACT, effect=_delivery_approved)


# --- petition deliveries -----------------------------------------------------------------------

# Lines other apps add to a delivery's mail to officials (evidence: its frozen summaries),
# registered in their AppConfig.ready(); outreach imports none of them.
DeliveryExtra = Callable[[PetitionDelivery], list[str]]
_DELIVERY_EXTRAS: list[DeliveryExtra] = []


def delivery_extra_register(hook: DeliveryExtra) -> None:
    if hook not in _DELIVERY_EXTRAS:  # ready() may run twice in tests; register once
        _DELIVERY_EXTRAS.append(hook)


def _cosponsor_ids(petition: Petition) -> set[int]:
    return set(
        petition.campaign.cosponsorships.filter(status=CoSponsorship.Status.ACCEPTED).values_list(
            "organization_id", flat=True
        )
    )


@transaction.atomic
def delivery_prepare(
    *,
    petition: Petition,
    targets: list[Contact],
    milestone: int | None = None,
    scheduled_for: datetime | None = None,
    include_names: bool = False,
) -> PetitionDelivery:
    """Prepare a delivery; it goes out once every co-sponsor has approved it."""
    if not targets:
        raise OutreachError(_("Choose at least one recipient."))
    for contact in targets:
        letter_to_blocked_contact_check(contact=contact)
    try:
        with transaction.atomic():
            delivery = PetitionDelivery.objects.create(
                petition=petition,
                milestone=milestone,
                scheduled_for=scheduled_for,
                include_names=include_names,
            )
    except IntegrityError as exc:
        raise OutreachError(_("This milestone already has a delivery.")) from exc
    delivery.targets.set(targets)
    return delivery


@transaction.atomic
def delivery_approve(
    *, delivery: PetitionDelivery, organization: Organization, user: User
) -> PetitionDelivery:
    if organization.pk not in _cosponsor_ids(delivery.petition):
        raise OutreachError(_("Only the campaign's co-sponsors approve its deliveries."))
    if not Membership.objects.filter(
        user=user, organization=organization, role=Membership.Role.ADMIN
    ).exists():
        raise OutreachError(_("Only an admin of the organization can approve for it."))
    delivery = PetitionDelivery.objects.select_for_update().get(pk=delivery.pk)
    if delivery.status != PetitionDelivery.Status.AWAITING_APPROVAL:
        raise OutreachError(_("This delivery has already gone out."))
    # The approval is a UNANIMOUS joint act, proposed by the first co-sponsor to approve; the
    # others approve it (or object, with a public reason) like any joint act.
    act = delivery_act(delivery)
    petition = delivery.petition
    recipients = ", ".join(contact.name for contact in delivery.targets.all())
    try:
        if act is None or act.status in {JointAct.Status.STOPPED, JointAct.Status.WITHDRAWN}:
            joint.joint_act_propose(
                campaign=petition.campaign,
                organization=organization,
                user=user,
                kind=DELIVERY_APPROVAL_ACT,
                rule=JointAct.Rule.UNANIMOUS,
                subject_id=delivery.pk,
                description=lambda: (
                    _(
                        "Deliver the petition “%(title)s” (delivery no. %(n)d) to %(recipients)s, "
                        "as one message from all co-sponsors."
                    )
                    % {"title": petition.title, "n": delivery.pk, "recipients": recipients}
                ),
            )
        elif act.status == JointAct.Status.PENDING:
            joint.joint_act_answer(act=act, organization=organization, user=user, approve=True)
    except joint.JointActError as exc:
        raise OutreachError(str(exc)) from exc
    return delivery


DELIVERY_APPROVAL_ACT = "outreach.delivery"


def delivery_act(delivery: PetitionDelivery) -> JointAct | None:
    """The joint act approving this delivery (the latest one, if it was stopped and asked again)."""
    return joint.joint_act_latest(
        campaign_id=delivery.petition.campaign_id,
        kind=DELIVERY_APPROVAL_ACT,
        subject_id=delivery.pk,
    )


def _delivery_approved(act: JointAct) -> None:
    """Nothing to do at once: the delivery leaves when its milestone or date comes
    (``deliveries_due``, or the approving request), once its act is adopted."""


def delivery_preview(*, delivery: PetitionDelivery) -> dict[str, Any]:
    petition = delivery.petition
    return {
        "petition": petition,
        "cosponsors": list(campaign_selectors.campaign_cosponsors(campaign=petition.campaign)),
        "count": petition.confirmed_count,
        "countries": list(campaign_selectors.petition_countries(petition=petition)),
        "include_names": delivery.include_names,
        "extras": [line for hook in _DELIVERY_EXTRAS for line in hook(delivery)],
    }


def _names_csv(petition: Petition) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["name", "country"])
    shown = Signature.objects.filter(petition=petition, status=Signature.Status.CONFIRMED).exclude(
        display=Signature.Display.ANONYMOUS
    )
    for signature in shown.order_by("confirmed_at").iterator():
        name = signature.public_name
        writer.writerow(csv_row([name, signature.country]))
    return out.getvalue()


@transaction.atomic
def delivery_send_if_ready(*, delivery: PetitionDelivery, now: datetime | None = None) -> bool:
    """Send once: every co-sponsor approved (the joint act is adopted), and the milestone (checked
    by ``deliveries_due``) or the date, if any, has come."""
    now = now or timezone.now()
    delivery = PetitionDelivery.objects.select_for_update().get(pk=delivery.pk)
    if delivery.status != PetitionDelivery.Status.AWAITING_APPROVAL:
        return False
    act = delivery_act(delivery)
    if act is None or act.status != JointAct.Status.ADOPTED:
        return False
    if delivery.scheduled_for and delivery.scheduled_for > now:
        return False
    context = delivery_preview(delivery=delivery)
    names = _names_csv(delivery.petition) if delivery.include_names else ""
    for contact in delivery.targets.all():
        if contact.status != Contact.Status.ACTIVE:
            continue
        context["contact"] = contact
        email = email_enqueue_template(
            kind="outreach.delivery",
            bulk=True,
            to=contact.email,
            template="outreach/email/delivery",
            context={**context, "names_csv": names},
            language="en",
        )
        delivery.emails.add(email)
    delivery.status = PetitionDelivery.Status.SENT
    delivery.sent_at = now
    delivery.confirmed_count = delivery.petition.confirmed_count
    delivery.save(update_fields=["status", "sent_at", "confirmed_count"])
    recipients = ", ".join(c.name for c in delivery.targets.all())
    outcome_system(
        campaign_id=delivery.petition.campaign_id,
        kind=OutcomeEvent.Kind.PETITION_DELIVERED,
        description_en=f"Petition delivered with {delivery.confirmed_count:,} signatures "
        f"to {recipients}"[:500],
        description_ru=f"Петиция с {delivery.confirmed_count:,} подписями передана: {recipients}"[
            :500
        ],
    )
    return True


def deliveries_due(*, now: datetime | None = None) -> int:
    """Periodic: prepare milestone deliveries that were reached and send the approved ones."""
    sent = 0
    for delivery_id in PetitionDelivery.objects.filter(
        status=PetitionDelivery.Status.AWAITING_APPROVAL
    ).values_list("pk", flat=True):
        delivery = PetitionDelivery.objects.get(pk=delivery_id)
        if delivery.milestone and delivery.petition.confirmed_count < delivery.milestone:
            continue
        sent += int(delivery_send_if_ready(delivery=delivery, now=now))
    return sent


# --- replies and the signer's "did you get a reply?" ------------------------------------------


def _first_letter_sent(
    *, campaign_id: int, contact: Contact | None, letter: Letter | None
) -> datetime | None:
    """When the letter a reply answers went out: the letter named, or else the first of the
    campaign's letters to that recipient. A reply cannot be older than that."""
    if letter is not None:
        return letter.email.sent_at
    if contact is None:
        return None
    return (
        Letter.objects.filter(
            letter_campaign__campaign_id=campaign_id, contact=contact, email__sent_at__isnull=False
        )
        .order_by("email__sent_at")
        .values_list("email__sent_at", flat=True)
        .first()
    )


@transaction.atomic
def reply_record(
    *,
    campaign_id: int,
    organization: Organization | None,
    contact: Contact | None,
    letter: Letter | None = None,
    summary: str = "",
    url: str = "",
    received_at: datetime | None = None,
    source: str = Reply.Source.ENTERED,
    user: User | None = None,
) -> Reply:
    """Record an official's reply. One a co-sponsor enters is their own summary and is published
    at once; an emailed one (``reply_receive``) waits for a co-sponsor's review."""
    if not summary.strip() and not url:
        raise OutreachError(_("Give the reply's text or a link to it."))
    if url and not url.startswith(("https://", "http://")):
        raise OutreachError(_("The link must start with https://."))
    received_at = received_at or timezone.now()
    if received_at > timezone.now() + timedelta(minutes=5):
        raise OutreachError(_("A reply cannot be dated in the future."))
    first_sent = _first_letter_sent(campaign_id=campaign_id, contact=contact, letter=letter)
    if first_sent is not None and received_at < first_sent:
        raise OutreachError(
            _(
                "A reply cannot be dated before the first letter to this recipient was sent "
                "(%(sent)s)."
            )
            % {"sent": timezone.localtime(first_sent).strftime("%Y-%m-%d %H:%M")}
        )
    reply = Reply.objects.create(
        campaign_id=campaign_id,
        contact=contact,
        letter=letter,
        summary=summary.strip(),
        url=url,
        received_at=received_at,
        source=source,
        recorded_by=organization,
        **(
            {"published_at": timezone.now(), "published_by": user, "published_for": organization}
            if source == Reply.Source.ENTERED
            else {}
        ),
    )
    who = contact.name if contact else "an official"
    outcome_system(
        campaign_id=campaign_id,
        kind=OutcomeEvent.Kind.REPLY,
        description_en=f"Reply received from {who}"[:500],
        description_ru=f"Получен ответ: {contact.name if contact else 'официальное лицо'}"[:500],
        link=f"#reply-{reply.pk}",
    )
    return reply


def reply_receive(
    *,
    campaign_id: int,
    contact: Contact | None,
    letter: Letter | None,
    text: str,
    subject: str = "",
) -> Reply:
    """An official's emailed reply (anymail's inbound webhook): stored without the letter it
    quotes and with its signer's details redacted, unpublished until a co-sponsor reviews it."""
    signers = selectors.reply_signers(campaign_id=campaign_id, letter=letter, contact=contact)
    if signers is None:  # whose details it may quote is unknown: keep only that it came
        summary = selectors.reply_withheld_text()
    else:
        summary = reply_clean(text, signers)[:10000] or redact(subject, signers)
    return reply_record(
        campaign_id=campaign_id,
        organization=None,
        contact=contact,
        letter=letter,
        summary=summary or _("(The reply had no text of its own.)"),
        source=Reply.Source.INBOUND,
    )


@transaction.atomic
def reply_publish(*, reply: Reply, organization: Organization, user: User) -> Reply:
    """A co-sponsor's editor or admin read the (redacted) reply and publishes it on the public
    campaign page; who did it, for which organization, is recorded on the reply."""
    _require_cosponsor_editor(reply.campaign_id, organization, user)
    reply = Reply.objects.select_for_update().get(pk=reply.pk)
    if reply.published_at is not None:
        raise OutreachError(_("This reply is already published."))
    summary = selectors.reply_text(reply)
    if not summary.strip() and not reply.url:
        raise OutreachError(_("Nothing of this reply is left to publish."))
    reply.summary = summary
    reply.published_at = timezone.now()
    reply.published_by = user
    reply.published_for = organization
    reply.save(update_fields=["summary", "published_at", "published_by", "published_for"])
    return reply


def reply_surveys_due(*, now: datetime | None = None) -> int:
    """14 days after a letter was sent, ask its signer once; remind once a week later."""
    now = now or timezone.now()
    asked = 0
    first = Letter.objects.filter(
        survey_sent_at__isnull=True,
        signature__isnull=False,
        email__status=Email.Status.SENT,
        email__sent_at__lte=now - settings.OUTREACH_SURVEY_AFTER,
    )
    reminder = Letter.objects.filter(
        survey_sent_at__lte=now - settings.OUTREACH_SURVEY_REMINDER_AFTER,
        survey_reminded_at__isnull=True,
        signer_answer="",
        signature__isnull=False,
    )
    for queryset, field in ((first, "survey_sent_at"), (reminder, "survey_reminded_at")):
        for letter_id in list(queryset.values_list("pk", flat=True)[:500]):
            with transaction.atomic():
                letter = (
                    Letter.objects.select_for_update(skip_locked=True, of=("self",))
                    .select_related("signature", "contact", "letter_campaign__campaign")
                    .filter(pk=letter_id, **{f"{field}__isnull": True})
                    .first()
                )
                if letter is None or letter.signature is None:
                    continue
                setattr(letter, field, now)
                letter.save(update_fields=[field])
                _survey_mail(letter)
                asked += 1
    return asked


def _survey_mail(letter: Letter) -> None:
    signature = letter.signature
    assert signature is not None  # noqa: S101 - filtered by the caller
    token = token_make(letter.pk, "survey")
    links = {
        answer: settings.SITE_URL + reverse("outreach:survey", args=[token, answer])
        for answer in ("yes", "no", "not_yet")
    }
    email_enqueue_template(
        kind="outreach.survey",
        bulk=True,
        list_scope=SUPPRESS_ALL,  # not asked for: one-click unsubscribe, suppression honoured
        to=signature.email,
        template="outreach/email/survey",
        context={"letter": letter, "links": links},
        language=signature.language,
    )


@transaction.atomic
def survey_answer(*, letter_id: int, answer: str) -> Letter:
    if answer not in {"yes", "no", "not_yet"}:
        raise OutreachError(_("Choose yes, no or not yet."))
    letter = Letter.objects.select_for_update().get(pk=letter_id)
    letter.signer_answer = answer
    letter.save(update_fields=["signer_answer"])
    return letter
