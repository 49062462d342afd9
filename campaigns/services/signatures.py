"""Signatures: sign, confirm, withdraw, "not me", reminders and expiry, and the per-mailbox
cap on the mail anyone can cause by typing an address into a sign form."""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from campaigns import events, selectors, signing
from campaigns.models import Campaign, Petition, Signature, SignatureCountDelta, SupporterConsent
from campaigns.services._common import CampaignConflict, CampaignError, CampaignNotFound
from campaigns.services.counting import _count, _count_attempt
from foundation.inserts import row_insert_unless_exists
from members.models import Organization
from outbox import mailbox_cap
from outbox.models import Email
from outbox.services import (
    RenderedEmail,
    email_enqueue_rendered_later,
    email_renderer_register,
    email_template_render,
    emails_by_recipe_cancel,
)
from outbox.suppression import ALL as SUPPRESS_ALL

logger = logging.getLogger(__name__)

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


# The signer's mail (confirmation, "already signed", reminder) is queued by recipe and rendered
# by the worker that sends it (``signer_mail_render``): the sign POST writes one outbox row and
# renders nothing, signs no link token and encrypts no body (issue 11).
SIGNER_MAIL_RENDERER = "campaigns.signer_mail"
_SIGNER_TEMPLATES = frozenset({"confirm", "already_signed", "reminder"})


def _mail_signer(signature: Signature, template: str, *, list_scope: str = "") -> None:
    """Mail the signer (in the caller's transaction: a row, rendered when it is sent).

    ``list_scope``: not transactional (a reminder), so it carries one-click unsubscribe."""
    email_enqueue_rendered_later(
        kind=f"campaigns.{template}",
        to=signature.email,
        renderer=SIGNER_MAIL_RENDERER,
        args={"signature": signature.pk, "template": template},
        list_scope=list_scope,
    )


def signer_mail_render(email: Email) -> RenderedEmail | None:
    """Render a signer's mail queued by ``_mail_signer``, in the language the signer signed in;
    None if the signature is gone (withdrawn, "not me", erased, expired): nothing is sent.

    The text is the same as when it was rendered inside the request, with one difference in
    timing that is accepted: the review (the name as shown, the consents, the co-sponsors not
    consented to) is read now, at send time, so a co-sponsor that joined or left in the seconds
    between the POST and the send is listed as it is when the signer reads the mail. The link
    tokens are signed now too (their age counts from the sending, seconds later; the signature
    itself still expires SIGNATURE_CONFIRM_WITHIN after it was made)."""
    template = email.render_args.get("template")
    if template not in _SIGNER_TEMPLATES:
        raise ValueError(f"not a signer mail template: {template!r}")
    signature = (
        Signature.objects.select_related("petition__campaign")
        .filter(pk=email.render_args.get("signature"))
        .first()
    )
    if signature is None or signature.email_digest != email.recipient_digest:
        # Gone, or (never by our own queueing) a recipe naming another mailbox's signature:
        # nobody's name and links go to an address that is not theirs.
        return None
    return email_template_render(
        template=f"campaigns/email/{template}",
        context={
            "signature": signature,
            "petition": signature.petition,
            # What is being confirmed, so a signature someone else filled in is noticed.
            "review": selectors.signature_review(signature=signature),
            **_signer_links(signature),
        },
        language=signature.language,
        list_token=email.list_token if email.list_scope else "",
    )


def register_signer_mail() -> None:
    email_renderer_register(name=SIGNER_MAIL_RENDERER, renderer=signer_mail_render)


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
    is_open, high_security = _petition_now(petition)
    if not is_open:
        raise CampaignConflict(_("This petition is closed."))
    if high_security:
        # Whatever a form or an API client sent (services/security.py): no city, no name shown.
        # Read under a row lock, not from the (possibly cached) petition: a switch-on in
        # progress is waited for, so this signature cannot keep a city or name it anonymizes.
        city, display = "", Signature.Display.ANONYMOUS
    if cosponsors is None:
        cosponsors = list(selectors.campaign_cosponsors(campaign=petition.campaign))
    cosponsor_ids = {org.pk for org in cosponsors}
    consents = [org for org in consents or [] if org.pk in cosponsor_ids]
    if source is not None and source.pk not in cosponsor_ids:
        source = None  # attribution only ever goes to a co-sponsor
    digest = signing.email_digest(email)
    language = (translation.get_language() or settings.LANGUAGE_CODE)[:2]
    # Every accepted attempt counts as "started", a repeat or a capped one too: if only new
    # signatures counted, a co-sponsor's member could sign with someone's address and read on
    # the dashboard (+1 or +0) whether that person had signed (issue 10).
    _count_attempt(petition, country=country, source=source)
    if not mailbox_cap.mailbox_may_be_mailed(digest):
        # Over the per-mailbox cap: answer like success (the caller does not know which case
        # this is), write no signature and send nothing, so that nobody can mail-bomb an inbox
        # by signing many petitions with its address.
        logger.warning("signer mail cap reached; attempt dropped")
        return None
    # One INSERT ... ON CONFLICT DO NOTHING: None if this mailbox had signed this petition
    # already (the one-signature-per-mailbox constraint), with no savepoint to roll back.
    signature = row_insert_unless_exists(
        Signature(
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
    )
    if signature is None:
        # This mailbox signed this petition already: the same answer as a new signature, and
        # the mail (if any) goes to the mailbox itself, never to whoever typed the address.
        existing = (
            Signature.objects.select_for_update()
            .filter(petition=petition, email_digest=digest)
            .first()
        )
        if existing is not None:  # else withdrawn in between: nothing left to re-send
            existing.petition = petition
            _signature_resend(existing)
        return None
    SupporterConsent.objects.bulk_create(
        [SupporterConsent(signature=signature, organization=org) for org in consents]
    )
    _mail_signer(signature, "confirm")
    return signature


def _petition_now(petition: Petition) -> tuple[bool, bool]:
    """Whether the petition is open, and whether its campaign is in high security, as committed
    now, not as the caller read them (the sign POST may pass a per-process copy,
    ``selectors.petition_for_sign``). One statement for both.

    ``FOR KEY SHARE`` of the campaign waits for a status change or a high-security switch in
    progress (they hold the row ``FOR UPDATE``) and then reads its result; signers do not block
    each other. A deadline is compared with the database's clock."""
    if connection.vendor != "postgresql":
        fresh = Petition.objects.select_related("campaign").get(pk=petition.pk)
        return fresh.is_open, fresh.campaign.high_security
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.status = %s AND (p.deadline IS NULL OR p.deadline > now()), c.high_security"
            " FROM campaigns_petition p JOIN campaigns_campaign c ON c.id = p.campaign_id"
            " WHERE p.id = %s FOR KEY SHARE OF c",
            [Campaign.Status.LIVE, petition.pk],
        )
        row = cursor.fetchone()
    if row is None:
        return False, False
    return bool(row[0]), bool(row[1])


# Mail that anyone can cause to be sent to any address, by typing it into a sign form. The daily
# cap counts it with the case reports' and the agenda's under one lock and one setting
# (outbox/mailbox_cap.py): one mailbox, one budget, whichever forms were used.
# The signing form's kinds are the campaigns' entries of that one list, written there once.
SIGNER_MAIL_KINDS = tuple(
    kind for kind in mailbox_cap.PUBLIC_FORM_MAIL_KINDS if kind.startswith("campaigns.")
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
        raise CampaignNotFound(_("This link is not valid or has expired."))
    signature = (
        Signature.objects.select_for_update()
        .select_related("petition__campaign")
        .filter(pk=signature_id)
        .first()
    )
    if signature is None:
        raise CampaignNotFound(_("This signature no longer exists."))
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
        raise CampaignConflict(_("This petition is closed."))
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
    # Its mail still waiting (a retry after a failed attempt) must not go out after all.
    emails_by_recipe_cancel(renderer=SIGNER_MAIL_RENDERER, args={"signature": signature.pk})
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
            if not mailbox_cap.mailbox_may_be_mailed(signature.email_digest):
                continue  # the mailbox had its share today; the reminder waits for a later run
            signature.reminders_sent += 1
            signature.last_mailed_at = now
            signature.save(update_fields=["reminders_sent", "last_mailed_at"])
            # Not asked for: it carries one-click unsubscribe and honours the suppression list.
            _mail_signer(signature, "reminder", list_scope=SUPPRESS_ALL)
            reminded += 1
    return reminded, expired_count
