"""Campaign updates: drafted by one co-sponsor, sent as a joint act of all (campaigns/joint.py).

The rule is settings.UPDATES_APPROVAL_RULE (default: every co-sponsor's admin approves). Once
adopted, the update goes to the confirmed signers of the campaign who chose "keep me informed",
once per mailbox, in the language they signed in, through the outbox's bulk lane, paced at
settings.UPDATES_PER_MINUTE, skipping suppressed mailboxes (outbox/suppression.py).
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from campaigns import joint
from campaigns.models import Campaign, JointAct, OutcomeEvent, Signature
from foundation.errors import DomainError
from members.models import Membership, Organization, User
from outbox.services import MAIL_TEXT, email_enqueue
from outbox.suppression import (
    campaign_scope,
    list_tokens_for,
    suppressed_digests,
    unsubscribe_hook_register,
    unsubscribe_url,
)
from updates.models import CampaignUpdate

logger = logging.getLogger(__name__)

SEND_ACT = "updates.send"
FANOUT_BATCH = 1000
MAIL_KIND = "updates.update"
_LINK_MARK = "UNSUBSCRIBE-LINK-8f3b2c"  # stands in for each signer's own link while rendering


class UpdateError(DomainError):
    """Shown to the person who tried."""


def _require_editor(campaign: Campaign, organization: Organization, user: User) -> None:
    if not Membership.objects.filter(
        user=user, organization=organization, role__in=joint.EDITOR_ROLES
    ).exists():
        raise UpdateError(_("You cannot act for %(name)s.") % {"name": organization.name})
    if organization.pk not in joint.cosponsor_ids(campaign):
        raise UpdateError(_("Only the campaign's co-sponsors can do this."))


def _clean(fields: dict[str, Any]) -> dict[str, str]:
    data = {k: str(fields.get(k) or "").strip() for k in ("subject_en", "subject_ru")}
    data |= {k: str(fields.get(k) or "").strip() for k in ("body_en", "body_ru")}
    if not data["subject_en"] and not data["subject_ru"]:
        raise UpdateError(_("Give the update a subject in English or Russian."))
    for code in ("en", "ru"):
        if bool(data[f"subject_{code}"]) != bool(data[f"body_{code}"]):
            raise UpdateError(_("Write both the subject and the text in each language you use."))
    return data


@transaction.atomic
def update_draft(
    *,
    campaign: Campaign,
    organization: Organization,
    user: User,
    outcome: OutcomeEvent | None = None,
    **fields: Any,
) -> CampaignUpdate:
    _require_editor(campaign, organization, user)
    return CampaignUpdate.objects.create(
        campaign=campaign,
        drafted_by=organization,
        drafted_by_user=user,
        outcome=outcome,
        **_clean(fields),
    )


@transaction.atomic
def update_edit(
    *, update: CampaignUpdate, organization: Organization, user: User, **fields: Any
) -> CampaignUpdate:
    """Only the drafting co-sponsor edits, and only a draft: what was proposed is what is sent."""
    update = CampaignUpdate.objects.select_for_update().get(pk=update.pk)
    _require_editor(update.campaign, organization, user)
    if update.drafted_by_id != organization.pk:
        raise UpdateError(_("Only the organization that drafted an update can change it."))
    if not update.is_editable:
        raise UpdateError(_("A proposed or sent update can no longer be changed."))
    for key, value in _clean(fields).items():
        setattr(update, key, value)
    update.save()
    return update


def _outcome_text(event: OutcomeEvent, code: str) -> tuple[str, str]:
    with translation.override(code):
        kind = str(OutcomeEvent.Kind(event.kind).label)
        title = event.campaign.title
        description = getattr(event, f"description_{code}") or event.description
        subject = _("%(campaign)s: %(what)s") % {"campaign": title, "what": kind}
        lines = [description]
        if event.evidence_url:
            lines.append(_("Source: %(url)s") % {"url": event.evidence_url})
        lines.append(
            _("Read more on the campaign page: %(url)s")
            % {"url": settings.SITE_URL + event.campaign.get_absolute_url()}
        )
        return subject[:200], "\n\n".join(lines)


@transaction.atomic
def update_from_outcome(
    *, event: OutcomeEvent, organization: Organization, user: User
) -> CampaignUpdate:
    """One click on an outcome ("reply received", "meeting held", the result): a prefilled draft
    in the campaign's languages, to be edited, previewed and proposed like any other."""
    campaign = event.campaign
    fields: dict[str, str] = {}
    for code in campaign.languages or ["en"]:
        fields[f"subject_{code}"], fields[f"body_{code}"] = _outcome_text(event, code)
    return update_draft(
        campaign=campaign, organization=organization, user=user, outcome=event, **fields
    )


@transaction.atomic
def update_propose(*, update: CampaignUpdate, organization: Organization, user: User) -> JointAct:
    update = CampaignUpdate.objects.select_for_update().get(pk=update.pk)
    _require_editor(update.campaign, organization, user)
    if update.drafted_by_id != organization.pk:
        raise UpdateError(_("Only the organization that drafted an update can propose it."))
    if not update.is_editable:
        raise UpdateError(_("This update is already proposed or sent."))
    subject = update.subject
    try:
        act = joint.joint_act_propose(
            campaign=update.campaign,
            organization=organization,
            user=user,
            kind=SEND_ACT,
            rule=settings.UPDATES_APPROVAL_RULE,
            subject_id=update.pk,
            # What the co-sponsors agree to is this text: the effect sends it only if unchanged.
            payload={"content": update.content()},
            description=lambda: (
                _("Send the update “%(subject)s” to the signers who asked to be kept informed")
                % {"subject": subject}
            ),
        )
    except joint.JointActError as exc:
        raise UpdateError(str(exc)) from exc
    # Adopted at once (a single co-sponsor's admin), the effect has already set it SENDING.
    CampaignUpdate.objects.filter(pk=update.pk).update(act=act)
    return act


def _send_effect(act: JointAct) -> None:
    update = (
        CampaignUpdate.objects.select_for_update()
        .filter(pk=act.subject_id, campaign_id=act.campaign_id)
        .first()
    )
    if update is None:
        raise joint.JointActError("the update no longer exists")
    if update.content() != act.payload.get("content"):
        raise joint.JointActError("the update was changed after it was proposed")
    if update.status in {CampaignUpdate.Status.SENDING, CampaignUpdate.Status.SENT}:
        return
    update.status, update.act, update.sent_at = CampaignUpdate.Status.SENDING, act, timezone.now()
    update.save(update_fields=["status", "act", "sent_at"])
    update_id = update.pk

    def start() -> None:
        from updates.tasks import update_fanout

        update_fanout.delay(update_id)

    transaction.on_commit(start)


# --- rendering and fan-out ---------------------------------------------------------------------


def update_render(
    *, update: CampaignUpdate, language: str, unsubscribe: str
) -> tuple[str, str, str]:
    """(subject, text, HTML) as a signer reading ``language`` gets it: the preview shows this."""
    campaign = update.campaign
    with translation.override(language):
        context = {
            "update": update,
            "subject": update.subject,
            "body": update.body,
            "campaign": campaign,
            "campaign_url": settings.SITE_URL + campaign.get_absolute_url(),
            "cosponsors": [c.organization.name for c in _cosponsorships(campaign)],
            "unsubscribe_url": unsubscribe,
            "site_url": settings.SITE_URL,
        }
        plain = render_to_string("updates/email/update_body.txt", context, using=MAIL_TEXT)
        text = plain.strip() + "\n"
        html = render_to_string("updates/email/update_body.html", context)
        return str(context["subject"]), text, html


def _cosponsorships(campaign: Campaign) -> Any:
    return campaign.cosponsorships.filter(status="accepted").select_related("organization")


def update_fanout_batch(*, update_id: int, batch: int = FANOUT_BATCH) -> int:
    """Queue the next batch of update mails; 0 when all are queued (then the update is SENT).

    Idempotent: the cursor (last mailbox digest queued) moves in the same transaction as the
    rows it queued, under the update's row lock, so a re-delivered task queues nothing twice.
    """
    with transaction.atomic():
        update = (
            CampaignUpdate.objects.select_for_update(skip_locked=True)
            .select_related("campaign")
            .filter(pk=update_id, status=CampaignUpdate.Status.SENDING)
            .first()
        )
        if update is None:
            return 0
        rows = list(
            Signature.objects.filter(
                petition__campaign_id=update.campaign_id,
                status=Signature.Status.CONFIRMED,
                wants_updates=True,
                email_digest__gt=update.fanout_cursor,
            )
            .order_by("email_digest", "pk")
            .values_list("email_digest", "email", "language")[:batch]
        )
        if not rows:
            update.status = CampaignUpdate.Status.SENT
            update.save(update_fields=["status"])
            return 0
        scope = campaign_scope(update.campaign_id)
        suppressed = suppressed_digests(digests=[r[0] for r in rows], scope=scope)
        tokens = list_tokens_for(
            digests=[r[0] for r in rows if r[0] not in suppressed], scope=scope
        )
        # Rendered once per language; only the unsubscribe link differs between signers.
        rendered: dict[str, tuple[str, str, str]] = {}
        per_minute = max(1, settings.UPDATES_PER_MINUTE)
        start = update.sent_at or timezone.now()
        seen: set[str] = set()
        for digest, email, language in rows:
            if digest in seen:  # one mail per mailbox, however many petitions it signed
                continue
            seen.add(digest)
            if digest in suppressed:
                continue
            token = tokens[digest]
            if language not in rendered:
                rendered[language] = update_render(
                    update=update, language=language, unsubscribe=_LINK_MARK
                )
            subject, text, html = rendered[language]
            link = unsubscribe_url(token)
            text, html = text.replace(_LINK_MARK, link), html.replace(_LINK_MARK, link)
            email_enqueue(
                kind=MAIL_KIND,
                to=email,
                subject=subject,
                body_text=text,
                body_html=html,
                bulk=True,
                list_scope=scope,
                list_token=token,
                # Paced: at most UPDATES_PER_MINUTE leave per minute, in the bulk lane, so a
                # wave never holds up a confirmation someone waits for.
                send_at=start + timedelta(minutes=update.recipients // per_minute),
            )
            update.recipients += 1
        update.fanout_cursor = rows[-1][0]
        update.save(update_fields=["fanout_cursor", "recipients"])
        return len(rows)


def update_fanout(*, update_id: int) -> int:
    total = 0
    while done := update_fanout_batch(update_id=update_id):
        total += done
    return total


def updates_fanout_due() -> int:
    """Periodic: finish fan-outs whose task was lost (a broker outage, a killed worker)."""
    return sum(
        update_fanout(update_id=pk)
        for pk in CampaignUpdate.objects.filter(status=CampaignUpdate.Status.SENDING).values_list(
            "pk", flat=True
        )
    )


def _unsubscribed(digest: str, scope: str) -> None:
    """The signer left this campaign's updates (or all mail): their stored choice says so too,
    so the co-sponsors' export shows it."""
    signatures = Signature.objects.filter(email_digest=digest, wants_updates=True)
    if scope.startswith("campaign:"):
        signatures = signatures.filter(petition__campaign_id=int(scope.partition(":")[2]))
    signatures.update(wants_updates=False)


def manage_url(update: CampaignUpdate, organization: Organization) -> str:
    return reverse("updates:list", args=[organization.slug, update.campaign.slug])


def register() -> None:
    # After a campaign closes, its co-sponsors may still tell the signers the result.
    joint.joint_act_kind_register(kind=SEND_ACT, effect=_send_effect, after_close=True)
    unsubscribe_hook_register(scope_prefix="campaign:", hook=_unsubscribed)
