"""The only writers for campaigns, co-sponsorships, petitions and signatures.

All co-sponsors have the same rights: every check below asks "is this an accepted co-sponsor?",
never "who started it?". Errors are CampaignError with a message for the person who tried.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Collection
from datetime import date as date_type
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.text import slugify
from django.utils.translation import gettext as _

from campaigns import events, joint, selectors, signing
from campaigns.models import (
    Campaign,
    CampaignEndorsement,
    CampaignRevision,
    CoSponsorship,
    IssueArea,
    JointAct,
    OutcomeEvent,
    Petition,
    PetitionChannelCount,
    PetitionCountryCount,
    PetitionHourCount,
    PetitionSourceCount,
    Signature,
    SignatureCountDelta,
    SupporterConsent,
    SupporterExport,
)
from members.models import Decision, Membership, Organization, User
from members.services import (
    MembershipError,
    decision_effect_register,
    decision_open,
    organization_language,
)
from outbox.selectors import emails_to_mailbox_count
from outbox.services import email_enqueue_template
from outbox.suppression import ALL as SUPPRESS_ALL

logger = logging.getLogger(__name__)

EDITABLE_FIELDS = [
    "issue_area",
    "title_en",
    "title_ru",
    "summary_en",
    "summary_ru",
    "body_en",
    "body_ru",
    "image_alt",
]
EDITOR_ROLES: set[str] = {Membership.Role.ADMIN, Membership.Role.EDITOR}
ADMIN_ONLY: set[str] = {Membership.Role.ADMIN}


class CampaignError(Exception):
    """A campaign rule was broken; the message is shown to the person who tried."""


# --- who may act ------------------------------------------------------------------------------


def _require_role(user: User, organization: Organization, roles: set[str]) -> None:
    if not Membership.objects.filter(user=user, organization=organization, role__in=roles).exists():
        raise CampaignError(_("You cannot act for %(name)s.") % {"name": organization.name})


def _require_cosponsor(campaign: Campaign, organization: Organization) -> None:
    if not CoSponsorship.objects.filter(
        campaign=campaign, organization=organization, status=CoSponsorship.Status.ACCEPTED
    ).exists():
        raise CampaignError(_("Only the campaign's co-sponsors can do this."))


def _accepted_count(campaign: Campaign) -> int:
    return campaign.cosponsorships.filter(status=CoSponsorship.Status.ACCEPTED).count()


RESERVED_SLUGS = {"pow-challenge", "new"}  # taken by our own URLs


def _unique_slug(model: type[Campaign] | type[Petition], text: str) -> str:
    base = slugify(text)[:70].strip("-") or model.__name__.lower()
    slug, n = base, 1
    while slug in RESERVED_SLUGS or model.objects.filter(slug=slug).exists():
        n += 1
        slug = f"{base}-{n}"
    return slug


# --- campaigns --------------------------------------------------------------------------------

ISSUE_AREAS = [
    ("bank-accounts", "Bank accounts and payments", "Банковские счета и платежи"),
    ("vehicles", "Vehicles and entry rules", "Автомобили и правила въезда"),
    ("visas", "Visas and residence permits", "Визы и виды на жительство"),
    ("documents", "Identity documents", "Документы, удостоверяющие личность"),
    ("other", "Other", "Другое"),
]


def issue_areas_ensure() -> None:
    """The managed list of issue areas (also seeded by migration 0002; safe to repeat)."""
    for position, (slug, name_en, name_ru) in enumerate(ISSUE_AREAS):
        IssueArea.objects.get_or_create(
            slug=slug, defaults={"name_en": name_en, "name_ru": name_ru, "position": position}
        )


@transaction.atomic
def campaign_create(
    *, organization: Organization, user: User, issue_area: IssueArea, **content: Any
) -> Campaign:
    """A member organization starts a campaign; it is its first (equal) co-sponsor."""
    if not organization.is_member:
        raise CampaignError(_("Only coalition members can start campaigns."))
    _require_role(user, organization, EDITOR_ROLES)
    title = content.get("title_en") or content.get("title_ru") or ""
    if not title.strip():
        raise CampaignError(_("Give the campaign a title in English or Russian."))
    campaign = Campaign.objects.create(
        slug=_unique_slug(Campaign, content.get("title_en") or title),
        issue_area=issue_area,
        **{k: v for k, v in content.items() if k in EDITABLE_FIELDS or k == "image"},
    )
    CoSponsorship.objects.create(
        campaign=campaign,
        organization=organization,
        status=CoSponsorship.Status.ACCEPTED,
        responded_at=timezone.now(),
    )
    return campaign


@transaction.atomic
def campaign_update(
    *, campaign: Campaign, organization: Organization, user: User, **changes: Any
) -> Campaign:
    """Any co-sponsor edits the text; every edit is kept in the public revision history."""
    _require_role(user, organization, EDITOR_ROLES)
    _require_cosponsor(campaign, organization)
    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
    if campaign.status == Campaign.Status.CLOSED:
        raise CampaignError(_("A closed campaign can no longer be edited."))
    diff: dict[str, list[str]] = {}
    for field, new in changes.items():
        if field not in EDITABLE_FIELDS and field != "image":
            continue
        old = getattr(campaign, field)
        if field == "image":
            if new:
                campaign.image = new
                diff["image"] = [str(old or ""), "(new image)"]
            continue
        if old != new:
            diff[field] = [str(old), str(new)]
            setattr(campaign, field, new)
    if not (campaign.title_en.strip() or campaign.title_ru.strip()):
        raise CampaignError(_("Give the campaign a title in English or Russian."))
    if diff:
        campaign.save()
        CampaignRevision.objects.create(
            campaign=campaign, organization=organization, edited_by=user, changes=diff
        )
    return campaign


@transaction.atomic
def cosponsor_invite(
    *, campaign: Campaign, organization: Organization, invitee: Organization, user: User
) -> CoSponsorship:
    _require_role(user, organization, EDITOR_ROLES)
    _require_cosponsor(campaign, organization)
    if campaign.status == Campaign.Status.CLOSED:
        raise CampaignError(_("This campaign is closed."))
    if not invitee.is_member:
        raise CampaignError(_("Only coalition members can co-sponsor campaigns."))
    existing = CoSponsorship.objects.filter(campaign=campaign, organization=invitee).first()
    if existing is not None and existing.status in {
        CoSponsorship.Status.INVITED,
        CoSponsorship.Status.ACCEPTED,
    }:
        raise CampaignError(_("%(name)s is already invited.") % {"name": invitee.name})
    if existing is None:
        cosponsorship = CoSponsorship.objects.create(campaign=campaign, organization=invitee)
    else:
        existing.status, existing.invited_at, existing.responded_at = (
            CoSponsorship.Status.INVITED,
            timezone.now(),
            None,
        )
        existing.save(update_fields=["status", "invited_at", "responded_at"])
        cosponsorship = existing
    if campaign.status == Campaign.Status.DRAFT:
        Campaign.objects.filter(pk=campaign.pk).update(status=Campaign.Status.GATHERING)
    email_enqueue_template(
        kind="campaigns.cosponsor_invited",
        to=invitee.contact_email,
        template="campaigns/email/cosponsor_invited",
        context={"campaign": campaign, "organization": invitee, "inviter": organization},
        language=organization_language(invitee),
    )
    return cosponsorship


@transaction.atomic
def cosponsor_respond(*, cosponsorship: CoSponsorship, user: User, accept: bool) -> CoSponsorship:
    """The invited organization's admin accepts or declines."""
    _require_role(user, cosponsorship.organization, ADMIN_ONLY)
    cosponsorship = CoSponsorship.objects.select_for_update().get(pk=cosponsorship.pk)
    if cosponsorship.status != CoSponsorship.Status.INVITED:
        raise CampaignError(_("This invitation has already been answered."))
    cosponsorship.status = (
        CoSponsorship.Status.ACCEPTED if accept else CoSponsorship.Status.DECLINED
    )
    cosponsorship.responded_at = timezone.now()
    cosponsorship.save(update_fields=["status", "responded_at"])
    campaign = Campaign.objects.select_for_update().get(pk=cosponsorship.campaign_id)
    if (
        accept
        and campaign.status == Campaign.Status.PAUSED
        and _accepted_count(campaign) >= settings.CAMPAIGN_MIN_COSPONSORS
    ):
        campaign.status = Campaign.Status.LIVE
        campaign.save(update_fields=["status"])
        events.event_emit(events.CAMPAIGN_STATUS_CHANGED, campaign=campaign)
    return cosponsorship


@transaction.atomic
def cosponsor_withdraw(*, campaign: Campaign, organization: Organization, user: User) -> Campaign:
    """A co-sponsor leaves. Below the minimum, a live campaign pauses until another joins."""
    _require_role(user, organization, ADMIN_ONLY)
    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
    cosponsorship = CoSponsorship.objects.select_for_update().filter(
        campaign=campaign, organization=organization, status=CoSponsorship.Status.ACCEPTED
    )
    if not cosponsorship.update(status=CoSponsorship.Status.WITHDRAWN, responded_at=timezone.now()):
        raise CampaignError(_("Your organization does not co-sponsor this campaign."))
    if (
        campaign.status == Campaign.Status.LIVE
        and _accepted_count(campaign) < settings.CAMPAIGN_MIN_COSPONSORS
    ):
        campaign.status = Campaign.Status.PAUSED
        campaign.save(update_fields=["status"])
        events.event_emit(events.CAMPAIGN_STATUS_CHANGED, campaign=campaign)
    return campaign


@transaction.atomic
def campaign_go_live(*, campaign: Campaign, organization: Organization, user: User) -> Campaign:
    _require_role(user, organization, EDITOR_ROLES)
    _require_cosponsor(campaign, organization)
    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
    if campaign.status not in {
        Campaign.Status.DRAFT,
        Campaign.Status.GATHERING,
        Campaign.Status.PAUSED,
    }:
        raise CampaignError(_("This campaign cannot go live from its current state."))
    needed = settings.CAMPAIGN_MIN_COSPONSORS
    if _accepted_count(campaign) < needed:
        raise CampaignError(
            _("A campaign goes live only with at least %(n)d co-sponsoring organizations.")
            % {"n": needed}
        )
    campaign.status = Campaign.Status.LIVE
    campaign.went_live_at = campaign.went_live_at or timezone.now()
    campaign.save(update_fields=["status", "went_live_at"])
    events.event_emit(events.CAMPAIGN_STATUS_CHANGED, campaign=campaign)
    return campaign


CLOSE_ACT = "campaigns.close"


def _check_result(result: str, result_summary: str) -> None:
    if result not in Campaign.Result.values:
        raise CampaignError(_("Choose the campaign's result."))
    if not result_summary.strip():
        raise CampaignError(_("Write a short public summary of the result."))


@transaction.atomic
def campaign_close_propose(
    *, campaign: Campaign, organization: Organization, user: User, result: str, result_summary: str
) -> JointAct:
    """A co-sponsor proposes closing the campaign with a result: a joint act under the
    no-objection rule. The campaign closes only when the others agree, or when the objection
    period passes and none objected (campaigns/joint.py)."""
    _require_role(user, organization, EDITOR_ROLES)
    _require_cosponsor(campaign, organization)
    _check_result(result, result_summary)
    if campaign.status == Campaign.Status.CLOSED:
        raise CampaignError(_("This campaign is already closed."))
    summary = result_summary.strip()
    try:
        return joint.joint_act_propose(
            campaign=campaign,
            organization=organization,
            user=user,
            kind=CLOSE_ACT,
            rule=JointAct.Rule.NO_OBJECTION,
            payload={"result": result, "result_summary": summary},
            description=lambda: (
                _("Close the campaign for good with the result “%(result)s”: %(summary)s")
                % {"result": Campaign.Result(result).label, "summary": summary}
            ),
        )
    except joint.JointActError as exc:
        raise CampaignError(str(exc)) from exc


def _close_effect(act: JointAct) -> None:
    try:
        _campaign_close_apply(
            campaign=act.campaign,
            organization=act.proposed_by,
            user=act.proposed_by_user,
            result=act.payload["result"],
            result_summary=act.payload["result_summary"],
        )
    except CampaignError as exc:
        raise joint.JointActError(str(exc)) from exc


@transaction.atomic
def campaign_close(
    *, campaign: Campaign, organization: Organization, user: User, result: str, result_summary: str
) -> Campaign:
    """Close at once, without asking the other co-sponsors. No view or API calls this: people
    close through ``campaign_close_propose``; tests use it to arrange a closed campaign."""
    _require_role(user, organization, EDITOR_ROLES)
    _require_cosponsor(campaign, organization)
    return _campaign_close_apply(
        campaign=campaign,
        organization=organization,
        user=user,
        result=result,
        result_summary=result_summary,
    )


def _campaign_close_apply(
    *,
    campaign: Campaign,
    organization: Organization,
    user: User | None,
    result: str,
    result_summary: str,
) -> Campaign:
    _check_result(result, result_summary)
    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
    if campaign.status == Campaign.Status.CLOSED:
        raise CampaignError(_("This campaign is already closed."))
    campaign.status = Campaign.Status.CLOSED
    campaign.result = result
    campaign.result_summary = result_summary.strip()
    campaign.closed_at = timezone.now()
    campaign.save(update_fields=["status", "result", "result_summary", "closed_at"])
    events.event_emit(events.CAMPAIGN_STATUS_CHANGED, campaign=campaign)
    outcome = OutcomeEvent.objects.create(
        campaign=campaign,
        kind=OutcomeEvent.Kind.RESULT,
        date=timezone.localdate(),
        description_en=f"{Campaign.Result(result).label}: {campaign.result_summary}"[:500],
        recorded_by=organization,
        recorded_by_user=user,
    )
    events.event_emit(events.OUTCOME_RECORDED, outcome=outcome)
    return campaign


@transaction.atomic
def campaign_request_endorsement(
    *, campaign: Campaign, organization: Organization, user: User
) -> Decision:
    """Co-sponsors ask the whole coalition to endorse the campaign (one org, one vote)."""
    _require_role(user, organization, ADMIN_ONLY)
    _require_cosponsor(campaign, organization)
    if campaign.endorsed_at is not None:
        raise CampaignError(_("The coalition has already endorsed this campaign."))
    if CampaignEndorsement.objects.filter(
        campaign=campaign, decision__status=Decision.Status.OPEN
    ).exists():
        raise CampaignError(_("An endorsement vote on this campaign is already open."))
    try:
        decision = decision_open(
            kind=Decision.Kind.ENDORSE_CAMPAIGN,
            title=_("Endorse the campaign “%(title)s”") % {"title": campaign.title},
            description=campaign.summary,
            proposed_by=organization,
        )
    except MembershipError as exc:
        raise CampaignError(str(exc)) from exc
    CampaignEndorsement.objects.create(campaign=campaign, decision=decision)
    return decision


def _endorsement_effect(decision: Decision) -> None:
    if decision.outcome != Decision.Outcome.ADOPTED:
        return
    link = CampaignEndorsement.objects.filter(decision=decision).select_related("campaign").first()
    if link is not None:
        Campaign.objects.filter(pk=link.campaign_id, endorsed_at__isnull=True).update(
            endorsed_at=decision.closed_at
        )


def register_decision_effects() -> None:
    decision_effect_register(kind=Decision.Kind.ENDORSE_CAMPAIGN, effect=_endorsement_effect)
    joint.joint_act_kind_register(kind=CLOSE_ACT, effect=_close_effect)


# --- petitions --------------------------------------------------------------------------------


@transaction.atomic
def petition_create(
    *, campaign: Campaign, organization: Organization, user: User, **fields: Any
) -> Petition:
    _require_role(user, organization, EDITOR_ROLES)
    _require_cosponsor(campaign, organization)
    title = fields.get("title_en") or fields.get("title_ru") or ""
    if not title.strip():
        raise CampaignError(_("Give the petition a title in English or Russian."))
    return Petition.objects.create(
        campaign=campaign, slug=_unique_slug(Petition, fields.get("title_en") or title), **fields
    )


# --- signatures -------------------------------------------------------------------------------


def _signer_links(signature: Signature) -> dict[str, str]:
    base = settings.SITE_URL
    return {
        "confirm_url": base
        + reverse("campaigns:confirm", args=[signing.token_make(signature.pk, "confirm")]),
        "not_me_url": base
        + reverse("campaigns:not_me", args=[signing.token_make(signature.pk, "not-me")]),
        "withdraw_url": base
        + reverse("campaigns:withdraw", args=[signing.token_make(signature.pk, "withdraw")]),
        "erase_url": base
        + reverse("privacy:erase", args=[signing.digest_token(signature.email_digest)]),
    }


def _mail_signer(
    signature: Signature,
    template: str,
    *,
    consents: list[Organization] | None = None,
    cosponsors: list[Organization] | None = None,
    list_scope: str = "",
) -> None:
    """Mail the signer; ``consents``/``cosponsors`` when the caller has them (no re-reading).

    ``list_scope``: not transactional (a reminder), so it carries one-click unsubscribe."""
    email_enqueue_template(
        list_scope=list_scope,
        kind=f"campaigns.{template}",
        to=signature.email,
        template=f"campaigns/email/{template}",
        context={
            "signature": signature,
            "petition": signature.petition,
            # What is being confirmed, so a signature someone else filled in is noticed.
            "review": selectors.signature_review(
                signature=signature, consents=consents, cosponsors=cosponsors
            ),
            **_signer_links(signature),
        },
        language=signature.language,
    )


@transaction.atomic
def signature_create(
    *,
    petition: Petition,
    name: str,
    email: str,
    country: str,
    city: str = "",
    display: str = Signature.Display.ANONYMOUS,
    consents: list[Organization] | None = None,
    source: Organization | None = None,
    cosponsors: list[Organization] | None = None,
    updates: bool = False,
) -> Signature | None:
    """Record a signature awaiting confirmation and queue the confirmation email.

    A second attempt with the same address does not create a row or reveal that the address
    signed: it re-sends the confirmation (or, if already confirmed, a short reminder of that) to
    the address itself. Returns the new signature, or None for such a repeat.

    `cosponsors`: the campaign's accepted co-sponsors, when the caller has just read them
    (`selectors.campaign_cosponsors`) to build the form; saves reading them again per signature.
    """
    if not petition.is_open:
        raise CampaignError(_("This petition is closed."))
    if cosponsors is None:
        cosponsors = list(selectors.campaign_cosponsors(campaign=petition.campaign))
    cosponsor_ids = {org.pk for org in cosponsors}
    consents = [org for org in consents or [] if org.pk in cosponsor_ids]
    if source is not None and source.pk not in cosponsor_ids:
        source = None  # attribution only ever goes to a co-sponsor
    digest = signing.email_digest(email)
    language = (translation.get_language() or settings.LANGUAGE_CODE)[:2]
    _mailbox_lock(digest)
    # Every accepted attempt counts as "started", a repeat or a capped one too: if only new
    # signatures counted, a co-sponsor's member could sign with someone's address and read on
    # the dashboard (+1 or +0) whether that person had signed (issue 10).
    _count_attempt(petition, country=country, source=source)
    if not _mailbox_may_be_mailed(digest):
        # Over the per-mailbox cap: answer like success (the caller does not know which case
        # this is), write no signature and send nothing, so that nobody can mail-bomb an inbox
        # by signing many petitions with its address.
        logger.warning("signer mail cap reached; attempt dropped")
        return None
    try:
        with transaction.atomic():
            signature = Signature.objects.create(
                petition=petition,
                name=name.strip(),
                email=email.strip(),
                email_digest=digest,
                country=country,
                city=city.strip(),
                display=display,
                source=source,
                language=language,
                wants_updates=updates,
            )
    except IntegrityError:
        existing = Signature.objects.select_for_update().get(petition=petition, email_digest=digest)
        _signature_resend(existing)
        return None
    SupporterConsent.objects.bulk_create(
        [SupporterConsent(signature=signature, organization=org) for org in consents]
    )
    _mail_signer(signature, "confirm", consents=consents, cosponsors=cosponsors)
    return signature


# Mail that anyone can cause to be sent to any address, by typing it into a sign form.
SIGNER_MAIL_KINDS = ("campaigns.confirm", "campaigns.already_signed", "campaigns.reminder")
_MAILBOX_LOCK = 0x5167  # first key of our advisory locks on one mailbox's signer mail


def _mailbox_lock(digest: str) -> None:
    """Serialize sign requests for one mailbox until the transaction ends, so that concurrent
    requests cannot each find the mailbox under its cap and all send (PostgreSQL only; SQLite,
    for development, runs one writer at a time anyway)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_advisory_xact_lock(%s, %s)",
                [_MAILBOX_LOCK, int(digest[:8], 16) - 2**31],
            )


def _mailbox_may_be_mailed(digest: str) -> bool:
    """Under SIGNATURE_MAILS_PER_MAILBOX signer mails in the last 24 hours, all petitions and
    all spellings of the address together (outbox rows carry the mailbox's digest)."""
    sent = emails_to_mailbox_count(
        digest=digest, kinds=SIGNER_MAIL_KINDS, since=timezone.now() - timedelta(days=1)
    )
    return sent < settings.SIGNATURE_MAILS_PER_MAILBOX


def _count_attempt(petition: Petition, *, country: str, source: Organization | None) -> None:
    SignatureCountDelta.objects.create(
        petition_id=petition.pk,
        kind=SignatureCountDelta.Kind.STARTED,
        country=str(country),
        source_org_id=source.pk if source is not None else 0,
        hour=_hour(timezone.now()),
        delta=1,
    )


def _signature_resend(signature: Signature) -> None:
    # One mail per cooldown at most, so the form can't be used to flood someone's inbox.
    if timezone.now() - signature.last_mailed_at < settings.SIGNATURE_RESEND_COOLDOWN:
        return
    signature.last_mailed_at = timezone.now()
    signature.save(update_fields=["last_mailed_at"])
    _mail_signer(
        signature, "confirm" if signature.status == Signature.Status.PENDING else "already_signed"
    )


# Other apps may offer the signer a next step after confirming (e.g. writing to decision-makers).
AfterConfirm = Callable[[Signature], "str | None"]
_AFTER_CONFIRM: list[AfterConfirm] = []


def after_confirm_register(hook: AfterConfirm) -> None:
    _AFTER_CONFIRM.append(hook)


def after_confirm_url(signature: Signature) -> str | None:
    for hook in _AFTER_CONFIRM:
        url = hook(signature)
        if url:
            return url
    return None


def _signature_by_token(token: str, purpose: str, max_age: timedelta | None) -> Signature:
    signature_id = signing.token_read(token, purpose, max_age)
    if signature_id is None:
        raise CampaignError(_("This link is not valid or has expired."))
    signature = (
        Signature.objects.select_for_update()
        .select_related("petition__campaign")
        .filter(pk=signature_id)
        .first()
    )
    if signature is None:
        raise CampaignError(_("This signature no longer exists."))
    return signature


@transaction.atomic
def signature_confirm(
    *,
    token: str,
    display: str | None = None,
    consents: Collection[str] | None = None,
    updates: bool | None = None,
) -> Signature:
    """Follow the emailed link: the signature now counts. Following it again changes nothing.

    ``display`` and ``consents`` (co-sponsor slugs) are what the signer kept on the confirmation
    page; None keeps what was given when signing. They can only take away: a less exposed way to
    show the name, fewer organizations allowed to write. Anything else is refused whole, and
    nothing is confirmed.
    """
    signature = _signature_by_token(token, "confirm", settings.SIGNATURE_CONFIRM_WITHIN)
    if signature.status == Signature.Status.CONFIRMED:
        return signature
    if not signature.petition.is_open:
        raise CampaignError(_("This petition is closed."))
    exposure = selectors.DISPLAY_EXPOSURE
    if display is not None:
        if display not in exposure or exposure.index(display) > exposure.index(signature.display):
            raise CampaignError(_("Choose how your name is shown from the options on the page."))
        signature.display = display
    if consents is not None:
        given = SupporterConsent.objects.filter(signature=signature)
        if set(consents) - set(given.values_list("organization__slug", flat=True)):
            raise CampaignError(
                _("You can only keep or withdraw the permissions you gave when signing.")
            )
        given.exclude(organization__slug__in=list(consents)).delete()
    if updates is not None:
        if updates and not signature.wants_updates:
            raise CampaignError(_("You can only keep or stop the updates you chose when signing."))
        signature.wants_updates = updates
    signature.status = Signature.Status.CONFIRMED
    signature.confirmed_at = timezone.now()
    signature.save(update_fields=["status", "confirmed_at", "display", "wants_updates"])
    _count(signature, SignatureCountDelta.Kind.CONFIRMED, +1, at=signature.confirmed_at)
    events.event_emit(events.SIGNATURE_CONFIRMED, signature=signature)
    return signature


def signature_delete(signature: Signature) -> None:
    """Delete a signature and its personal data, uncounting it if it counted."""
    if signature.status == Signature.Status.CONFIRMED:
        # Uncount it in the hour it was counted, so the charts' totals stay the petition's total.
        _count(signature, SignatureCountDelta.Kind.CONFIRMED, -1, at=signature.confirmed_at)
    signature.delete()  # consents go with it (cascade)


@transaction.atomic
def signature_not_me(*, token: str) -> None:
    """ "It wasn't me": someone used this address; delete the signature and its data."""
    signature = _signature_by_token(token, "not-me", None)
    events.event_emit(events.PERSON_WITHDRAWN, signature=signature)
    signature_delete(signature)


@transaction.atomic
def signature_withdraw(*, token: str) -> None:
    """The signer takes the signature back; their personal data is deleted with it."""
    signature = _signature_by_token(token, "withdraw", None)
    events.event_emit(events.PERSON_WITHDRAWN, signature=signature)
    signature_delete(signature)


def signatures_remind_and_expire(*, now: datetime | None = None) -> tuple[int, int]:
    """Remind unconfirmed signers (up to the setting) and delete those past the deadline."""
    now = now or timezone.now()
    expired = Signature.objects.filter(
        status=Signature.Status.PENDING, created_at__lt=now - settings.SIGNATURE_CONFIRM_WITHIN
    )
    expired_count, _by_model = expired.delete()
    reminded = 0
    interval = settings.SIGNATURE_REMINDER_INTERVAL
    due = Signature.objects.filter(
        status=Signature.Status.PENDING,
        reminders_sent__lt=settings.SIGNATURE_REMINDERS,
        last_mailed_at__lt=now - interval,
    ).values_list("pk", flat=True)[:1000]
    for signature_id in list(due):
        with transaction.atomic():
            signature = (
                Signature.objects.select_for_update(skip_locked=True)
                .select_related("petition")
                .filter(pk=signature_id, status=Signature.Status.PENDING)
                .first()
            )
            if signature is None or signature.last_mailed_at >= now - interval:
                continue
            _mailbox_lock(signature.email_digest)
            if not _mailbox_may_be_mailed(signature.email_digest):
                continue  # the mailbox had its share today; the reminder waits for a later run
            signature.reminders_sent += 1
            signature.last_mailed_at = now
            signature.save(update_fields=["reminders_sent", "last_mailed_at"])
            # Not asked for: it carries one-click unsubscribe and honours the suppression list.
            _mail_signer(signature, "reminder", list_scope=SUPPRESS_ALL)
            reminded += 1
    return reminded, expired_count


MILESTONES = (100, 1_000, 10_000, 100_000, 1_000_000)


def _hour(moment: datetime) -> datetime:
    return moment.replace(minute=0, second=0, microsecond=0)


def _count(
    signature: Signature, kind: str, delta: int, at: datetime | None = None
) -> SignatureCountDelta:
    return SignatureCountDelta.objects.create(
        petition_id=signature.petition_id,
        kind=kind,
        country=str(signature.country),
        source_org_id=signature.source_id or 0,
        hour=_hour(at or timezone.now()),
        delta=delta,
    )


def signature_counts_fold(*, batch: int = 5000) -> int:
    """Fold pending count deltas into the per-petition, country, hour and source totals.

    Runs every two seconds; concurrent runs take disjoint batches (skip_locked).
    """
    with transaction.atomic():
        deltas = list(
            SignatureCountDelta.objects.select_for_update(skip_locked=True)
            .order_by("pk")
            .values_list(
                "pk", "petition_id", "kind", "country", "source_org_id", "hour", "delta", "channel"
            )[:batch]
        )
        if not deltas:
            return 0
        confirmed: dict[int, int] = defaultdict(int)
        started: dict[int, int] = defaultdict(int)
        by_country: dict[tuple[int, str], int] = defaultdict(int)
        by_source: dict[tuple[int, int], int] = defaultdict(int)
        by_hour: dict[tuple[int, datetime], list[int]] = defaultdict(lambda: [0, 0])
        by_channel: dict[tuple[int, str], int] = defaultdict(int)
        for _pk, petition_id, kind, country, source, hour, delta, channel in deltas:
            if kind == SignatureCountDelta.Kind.VISIT:
                by_channel[(petition_id, channel)] += delta
                continue
            if kind == SignatureCountDelta.Kind.STARTED:
                started[petition_id] += delta
                by_hour[(petition_id, hour)][0] += delta
                continue
            confirmed[petition_id] += delta
            by_country[(petition_id, country)] += delta
            by_source[(petition_id, source)] += delta
            by_hour[(petition_id, hour)][1] += delta
        for (petition_id, country), delta in by_country.items():
            row, _new = PetitionCountryCount.objects.get_or_create(
                petition_id=petition_id, country=country
            )
            PetitionCountryCount.objects.filter(pk=row.pk).update(count=F("count") + delta)
        for (petition_id, source), delta in by_source.items():
            source_row, _new = PetitionSourceCount.objects.get_or_create(
                petition_id=petition_id, source_org_id=source
            )
            PetitionSourceCount.objects.filter(pk=source_row.pk).update(
                confirmed=F("confirmed") + delta
            )
        for (petition_id, channel), delta in by_channel.items():
            channel_row, _new = PetitionChannelCount.objects.get_or_create(
                petition_id=petition_id, channel=channel
            )
            PetitionChannelCount.objects.filter(pk=channel_row.pk).update(
                visits=F("visits") + delta
            )
        for (petition_id, hour), (n_started, n_confirmed) in by_hour.items():
            hour_row, _new = PetitionHourCount.objects.get_or_create(
                petition_id=petition_id, hour=hour
            )
            PetitionHourCount.objects.filter(pk=hour_row.pk).update(
                started=F("started") + n_started, confirmed=F("confirmed") + n_confirmed
            )
        for petition_id in set(confirmed) | set(started):
            petition = Petition.objects.select_for_update().get(pk=petition_id)
            before = petition.confirmed_count
            petition.confirmed_count += confirmed.get(petition_id, 0)
            petition.started_count += started.get(petition_id, 0)
            petition.save(update_fields=["confirmed_count", "started_count"])
            _milestones(petition, before)
        SignatureCountDelta.objects.filter(pk__in=[d[0] for d in deltas]).delete()
        return len(deltas)


def _milestones(petition: Petition, before: int) -> None:
    """Crossing a round number or the goal puts a milestone on the campaign's timeline."""
    after = petition.confirmed_count
    for threshold in sorted({*MILESTONES, petition.goal}):
        if before < threshold <= after:
            milestone = OutcomeEvent.objects.create(
                campaign_id=petition.campaign_id,
                kind=OutcomeEvent.Kind.MILESTONE,
                date=timezone.now().date(),
                description_en=f"{threshold:,} confirmed signatures on “{petition.title_en}”"
                if petition.title_en
                else "",
                description_ru=(
                    f"{threshold:,} подтверждённых подписей: «{petition.title_ru}»"
                    if petition.title_ru
                    else ""
                ),
                system=True,
            )
            events.event_emit(events.OUTCOME_RECORDED, outcome=milestone)


def signature_counts_rebuild(*, petition: Petition) -> None:
    """Recount from the signatures themselves (repair tool; scans, so never on a page view).

    Signatures that expired unconfirmed are gone, and repeated attempts never had a row, so the
    rebuilt "started" figures count only the signatures that still exist, not every attempt.
    """
    with transaction.atomic():
        Petition.objects.select_for_update().get(pk=petition.pk)
        # Share-link visits are not recounted from signatures: their pending deltas stay.
        SignatureCountDelta.objects.filter(petition=petition).exclude(
            kind=SignatureCountDelta.Kind.VISIT
        ).delete()
        started_hours: dict[datetime, int] = defaultdict(int)
        for created in (
            Signature.objects.filter(petition=petition)
            .values_list("created_at", flat=True)
            .iterator()
        ):
            started_hours[_hour(created)] += 1
        confirmed = Signature.objects.filter(petition=petition, status=Signature.Status.CONFIRMED)
        countries: dict[str, int] = defaultdict(int)
        sources: dict[int, int] = defaultdict(int)
        hours: dict[datetime, int] = defaultdict(int)
        for country, source, at in confirmed.values_list(
            "country", "source_id", "confirmed_at"
        ).iterator():
            countries[country] += 1
            sources[source or 0] += 1
            hours[_hour(at or timezone.now())] += 1
        PetitionCountryCount.objects.filter(petition=petition).delete()
        PetitionCountryCount.objects.bulk_create(
            [
                PetitionCountryCount(petition=petition, country=c, count=n)
                for c, n in countries.items()
            ]
        )
        PetitionSourceCount.objects.filter(petition=petition).delete()
        PetitionSourceCount.objects.bulk_create(
            [
                PetitionSourceCount(petition=petition, source_org_id=k, confirmed=n)
                for k, n in sources.items()
            ]
        )
        PetitionHourCount.objects.filter(petition=petition).delete()
        PetitionHourCount.objects.bulk_create(
            [
                PetitionHourCount(
                    petition=petition, hour=h, started=started_hours.get(h, 0), confirmed=hours[h]
                )
                for h in set(hours) | set(started_hours)
            ]
        )
        Petition.objects.filter(pk=petition.pk).update(
            confirmed_count=sum(countries.values()), started_count=sum(started_hours.values())
        )


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


# --- outcomes: the public timeline ------------------------------------------------------------


def latest_today() -> date_type:
    """The latest date that is "today" anywhere on earth (UTC+14): the server runs on UTC, and
    a co-sponsor in Tbilisi recording today's meeting at 01:00 must not be told it is future."""
    return (timezone.now() + timedelta(hours=14)).date()


def _check_outcome(*, kind: str, date: date_type, evidence_url: str, description: str) -> None:
    if kind not in OutcomeEvent.Kind.values or kind in {
        OutcomeEvent.Kind.MILESTONE,
        OutcomeEvent.Kind.RESULT,
    }:
        raise CampaignError(_("Choose what happened."))
    if date > latest_today() and kind != OutcomeEvent.Kind.MEETING:
        raise CampaignError(_("Only a meeting can be dated in the future."))
    if evidence_url and not evidence_url.lower().startswith(("https://", "http://")):
        raise CampaignError(_("The evidence link must start with https:// or http://."))
    if not description.strip():
        raise CampaignError(_("Describe what happened, in English or Russian."))


@transaction.atomic
def outcome_record(
    *,
    campaign: Campaign,
    organization: Organization | None,
    user: User,
    kind: str,
    date: date_type,
    description_en: str = "",
    description_ru: str = "",
    evidence_url: str = "",
    evidence_file: Any = None,
) -> OutcomeEvent:
    """A co-sponsor (or platform staff, with no organization) records what the campaign achieved."""
    if organization is None:
        if not user.is_staff:
            raise CampaignError(_("Only co-sponsors and platform staff record outcomes."))
    else:
        _require_role(user, organization, EDITOR_ROLES)
        _require_cosponsor(campaign, organization)
    _check_outcome(
        kind=kind, date=date, evidence_url=evidence_url, description=description_en + description_ru
    )
    outcome = OutcomeEvent.objects.create(
        campaign=campaign,
        kind=kind,
        date=date,
        description_en=description_en.strip(),
        description_ru=description_ru.strip(),
        evidence_url=evidence_url,
        evidence_file=evidence_file or "",
        recorded_by=organization,
        recorded_by_user=user,
    )
    events.event_emit(events.OUTCOME_RECORDED, outcome=outcome)
    return outcome


@transaction.atomic
def outcome_update(*, event: OutcomeEvent, user: User, **changes: Any) -> OutcomeEvent:
    """Platform staff correct any recorded event (system events included)."""
    if not user.is_staff:
        raise CampaignError(_("Only platform staff correct recorded outcomes."))
    event = OutcomeEvent.objects.select_for_update().get(pk=event.pk)
    for field in ("kind", "date", "description_en", "description_ru", "evidence_url"):
        if field in changes:
            setattr(event, field, changes[field])
    if event.kind not in {OutcomeEvent.Kind.MILESTONE, OutcomeEvent.Kind.RESULT}:
        _check_outcome(
            kind=event.kind,
            date=event.date,
            evidence_url=event.evidence_url,
            description=event.description_en + event.description_ru,
        )
    event.save()
    return event


def outcome_system(
    *, campaign_id: int, kind: str, description_en: str, description_ru: str = "", link: str = ""
) -> OutcomeEvent:
    """An event the platform records by itself (deliveries, letter waves, replies)."""
    outcome = OutcomeEvent.objects.create(
        campaign_id=campaign_id,
        kind=kind,
        date=timezone.localdate(),
        description_en=description_en,
        description_ru=description_ru,
        link=link,
        system=True,
    )
    events.event_emit(events.OUTCOME_RECORDED, outcome=outcome)
    return outcome
