"""Reads for outreach: who gets a letter, and how each campaign's messages fared."""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from campaigns.models import Campaign, JointAct, Signature
from outbox.models import Email
from outreach.models import Contact, Letter, LetterCampaign, PetitionDelivery, Reply
from outreach.reply_text import SignerDetails, reply_clean

STATES = ["queued", "sent", "bounced", "failed", "replied"]
_STATE_OF: dict[str, str] = {
    Email.Status.QUEUED: "queued",
    Email.Status.SENDING: "queued",
    Email.Status.SENT: "sent",
    Email.Status.FAILED: "failed",
    Email.Status.CANCELLED: "failed",
}


# What the co-sponsors approve when they approve a letter campaign: its text, its fixed targets
# (each with its address) and its targeting. Country and topic targeting pick contacts when each
# letter is sent. The sending window and pacing may change freely.
_APPROVED_FIELDS = (
    "petition_id",
    "subject_en",
    "subject_ru",
    "body_en",
    "body_ru",
    "targeting",
    "institutions",
    "topic",
    "max_personal_length",
)


def letter_campaign_fingerprint(letter_campaign: LetterCampaign) -> str:
    content: dict[str, Any] = {f: getattr(letter_campaign, f) for f in _APPROVED_FIELDS}
    content["institutions"] = sorted(content["institutions"] or [])
    # Each fixed target with its address: a contact's address changed in the staff admin takes
    # the letter off the air until the co-sponsors approve it again.
    content["targets"] = sorted(
        [pk, email.lower()] for pk, email in letter_campaign.targets.values_list("pk", "email")
    )
    encoded = json.dumps(content, sort_keys=True, ensure_ascii=False).encode()
    return hashlib.sha256(encoded).hexdigest()


def letter_campaign_is_approved(letter_campaign: LetterCampaign) -> bool:
    """Approved by every co-sponsor, and unchanged since: only then may signers send it."""
    return (
        not letter_campaign.test_mode
        and bool(letter_campaign.approved_fingerprint)
        and letter_campaign.approved_fingerprint == letter_campaign_fingerprint(letter_campaign)
    )


def letter_campaign_for_signature(*, signature: Signature) -> LetterCampaign | None:
    """The newest approved, unchanged, open letter campaign of the signer's petition: the only
    one a signer is ever led to or may send. Drafts and test-mode campaigns never qualify."""
    now = timezone.now()
    candidates = (
        LetterCampaign.objects.filter(
            petition_id=signature.petition_id,
            test_mode=False,
            starts_at__lte=now,
        )
        .exclude(approved_fingerprint="")
        .filter(Q(ends_at__isnull=True) | Q(ends_at__gt=now))
        .order_by("-created_at", "-pk")
    )
    for letter_campaign in candidates[:20]:
        if letter_campaign_is_approved(letter_campaign):
            return letter_campaign
    return None


def campaign_delivery_stats(*, campaign: Campaign) -> dict[str, Any]:
    """Per target and per institution: queued, sent, bounced, failed, replied; and the failures."""
    letters = Letter.objects.filter(letter_campaign__campaign=campaign)
    rows = letters.values("contact_id", "contact__name", "contact__institution", "email__status")
    replied = set(
        Reply.objects.filter(campaign=campaign, contact__isnull=False).values_list(
            "contact_id", flat=True
        )
    )
    per_target: dict[int, dict[str, Any]] = {}
    per_institution: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(STATES, 0))
    for row in rows.annotate(n=Count("pk")):
        state = _STATE_OF[str(row["email__status"])]
        target = per_target.setdefault(
            row["contact_id"],
            {
                "name": row["contact__name"],
                "institution": Contact.Institution(row["contact__institution"]).label,
                **dict.fromkeys(STATES, 0),
            },
        )
        target[state] += row["n"]
        per_institution[target["institution"]][state] += row["n"]
    for contact_id, target in per_target.items():
        if contact_id in replied:
            target["replied"] = 1
            per_institution[target["institution"]]["replied"] += 1
    bounced = Contact.objects.filter(
        pk__in=per_target.keys(), status=Contact.Status.BOUNCING
    ).values_list("pk", flat=True)
    for contact_id in bounced:
        per_target[contact_id]["bounced"] = per_target[contact_id]["failed"]
        per_institution[per_target[contact_id]["institution"]]["bounced"] += per_target[contact_id][
            "failed"
        ]
    return {
        "targets": sorted(per_target.values(), key=lambda t: (t["institution"], t["name"])),
        "institutions": dict(sorted(per_institution.items())),
        "failures": failed_messages(campaign=campaign)[:100],
    }


def campaign_emails(*, campaign: Campaign) -> QuerySet[Email]:
    """Every outgoing message this campaign caused: letters and petition deliveries."""
    delivery_emails = PetitionDelivery.objects.filter(petition__campaign=campaign).values_list(
        "emails", flat=True
    )
    return Email.objects.filter(
        Q(letter__letter_campaign__campaign=campaign) | Q(pk__in=delivery_emails)
    )


def failed_messages(*, campaign: Campaign) -> QuerySet[Email]:
    return (
        campaign_emails(campaign=campaign)
        .filter(status=Email.Status.FAILED)
        .order_by("-created_at")
    )


def campaign_replies(*, campaign: Campaign) -> QuerySet[Reply]:
    return campaign.replies.select_related("contact", "recorded_by", "published_for")


def reply_is_reviewed(reply: Reply) -> bool:
    """Whether every co-sponsor member may read the reply: published, or a co-sponsor's own
    summary. An emailed reply not yet published is for members with two-factor only."""
    return reply.published_at is not None or reply.source == Reply.Source.ENTERED


def campaign_deliveries(*, campaign: Campaign) -> list[PetitionDelivery]:
    """The campaign's deliveries, each with ``act``: the joint act approving it, or None."""
    deliveries = list(
        PetitionDelivery.objects.filter(petition__campaign=campaign)
        .select_related("petition")
        .prefetch_related("targets")
    )
    acts: dict[int, JointAct] = {}
    for act in (
        JointAct.objects.filter(
            campaign=campaign, kind="outreach.delivery", subject_id__in=[d.pk for d in deliveries]
        )
        .prefetch_related("answers__organization")
        .order_by("proposed_at", "pk")
    ):
        acts[act.subject_id] = act  # the latest wins
    for delivery in deliveries:
        delivery.act = acts.get(delivery.pk)  # type: ignore[attr-defined]
    return deliveries


# How many of a contact's latest letters an emailed reply that names no letter is checked against.
REPLY_LETTERS_CHECKED = 200


def reply_withheld_text() -> str:
    """What is kept of an emailed reply whose signer's details cannot be known: only that it
    came."""
    return _(
        "(A reply came; its text is withheld: the signer of the letter it answers erased their "
        "data, so it could not be cleaned of their details.)"
    )


def reply_signers(
    *, campaign_id: int, letter: Letter | None, contact: Contact | None
) -> list[SignerDetails] | None:
    """Whose details an emailed reply may quote: its letter's signer, or (when the reply names no
    letter) the signers of the contact's latest letters in the campaign.

    None when that cannot be known, so nothing of the reply's text may be kept: a matched
    letter's signer erased their data (or retention deleted the signature), so their name and
    city are gone and cannot be redacted; or the contact has more letters than are checked.
    """
    if letter is not None:
        letters = [letter]
    elif contact is not None:
        letters = list(
            Letter.objects.filter(contact=contact, letter_campaign__campaign_id=campaign_id)
            .select_related("signature", "email")
            .order_by("-created_at")[: REPLY_LETTERS_CHECKED + 1]
        )
        if len(letters) > REPLY_LETTERS_CHECKED:
            return None
    else:
        letters = []
    signers = []
    for each in letters:
        signature = each.signature
        if signature is None:
            return None
        signers.append(
            SignerDetails(
                name=signature.name,
                city=signature.city,
                email=signature.email,
                letter_body=each.email.body_text if each.email_id else "",
            )
        )
    return signers


def reply_text(reply: Reply) -> str:
    """A reply's text as anyone is shown it: an emailed one is cleaned again, so a reply stored
    before cleaning existed never shows a signer's details either."""
    if reply.source != Reply.Source.INBOUND:
        return reply.summary
    signers = reply_signers(
        campaign_id=reply.campaign_id, letter=reply.letter, contact=reply.contact
    )
    if signers is None:
        return reply_withheld_text()
    return reply_clean(reply.summary, signers)
