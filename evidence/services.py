"""The only writers of case reports, their moderation, the lists and the evidence summaries."""

from __future__ import annotations

import difflib
import json
import logging
from datetime import UTC, date, datetime, timedelta

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from campaigns import events
from campaigns.models import CoSponsorship, IssueArea, OutcomeEvent
from campaigns.services import issue_areas_ensure
from campaigns.signing import digest_token, email_digest
from evidence import aggregates
from evidence.models import (
    CaseDesk,
    CaseReport,
    EvidenceSummary,
    ModerationLog,
    ReportConsent,
    Term,
)
from evidence.vocabularies import DEFAULT_TERMS, FIELDS, lists_for
from foundation.errors import DomainError
from members.models import Membership, Organization, User
from outbox.mailbox_cap import mailbox_may_be_mailed
from outbox.services import email_enqueue_template
from outreach import services as outreach_services
from outreach.models import LetterCampaign, PetitionDelivery
from privacy import services as privacy_services

logger = logging.getLogger(__name__)

MODERATOR_ROLES = {Membership.Role.ADMIN, Membership.Role.EDITOR}
_SALT = "evidence.report"


class EvidenceError(DomainError):
    """A domain error: views show it on the form, the database is left as it was."""


# --- tokens ------------------------------------------------------------------------------------


def token_make(report_id: int, purpose: str) -> str:
    # A salt of our own: a signature's token is never a report's, or the other way round.
    return signing.dumps({"r": report_id, "p": purpose}, salt=_SALT, compress=True)


def token_read(token: str, purpose: str, max_age: timedelta | None) -> int | None:
    try:
        data = signing.loads(token, salt=_SALT, max_age=max_age)
    except signing.BadSignature:
        return None
    if not isinstance(data, dict) or data.get("p") != purpose or not isinstance(data.get("r"), int):
        return None
    return int(data["r"])


# --- reporting ---------------------------------------------------------------------------------


def month_check(month: date, *, today: date | None = None) -> None:
    today = today or timezone.localdate()
    if (month.year, month.month) > (today.year, today.month):
        raise EvidenceError(_("The month cannot be in the future."))
    if month.year < settings.EVIDENCE_EARLIEST_YEAR:
        raise EvidenceError(
            _("Only cases since %(year)d are collected.")
            % {"year": settings.EVIDENCE_EARLIEST_YEAR}
        )


def terms_ensure() -> None:
    """The default lists (evidence/vocabularies.py) as migration 0002 put them in a new database:
    for seed_demo, after anything emptied the tables. Idempotent; moderators' own entries and
    retirements are left as they are."""
    issue_areas_ensure()
    areas = {area.slug: area for area in IssueArea.objects.all()}
    for (slug, vocabulary), names in DEFAULT_TERMS.items():
        if slug not in areas:
            continue
        for name_en, name_ru in names:
            Term.objects.get_or_create(
                issue_area=areas[slug],
                vocabulary=vocabulary,
                name_en=name_en,
                defaults={"name_ru": name_ru},
            )


def case_desks(*, issue_area: IssueArea) -> list[Organization]:
    """Member organizations that handle cases of this area: the reporter may ask them to write."""
    return list(
        Organization.objects.filter(
            status=Organization.Status.MEMBER,
            pk__in=CaseDesk.objects.filter(issue_area=issue_area).values("organization_id"),
        ).order_by("name")
    )


def _mail_reporter(
    report: CaseReport, template: str, *, consents: list[Organization] | None = None
) -> None:
    base = settings.SITE_URL
    email_enqueue_template(
        kind=f"evidence.{template}",
        to=report.email,
        template=f"evidence/email/{template}",
        context={
            "report": report,
            "issue_area": report.issue_area,
            "confirm_url": base
            + reverse("evidence:confirm", args=[token_make(report.pk, "confirm")]),
            "erase_url": base + reverse("privacy:erase", args=[digest_token(report.email_digest)]),
            # Who may write to the reporter, and the link to take that back from any one of them
            # (it does not expire with the confirmation link: a consent is withdrawn any time).
            "consents": [org.name for org in consents or []],
            "consents_url": base + reverse("evidence:consents", args=[consents_token(report)]),
        },
        language=report.language,
    )


@transaction.atomic
def report_create(
    *,
    issue_area: IssueArea,
    email: str,
    country: str,
    month: date,
    choices: dict[str, Term | None],
    others: dict[str, str],
    documents: list[Term],
    account: str = "",
    publish_account: bool = False,
    consents: list[Organization] | None = None,
) -> CaseReport | None:
    """Record a report awaiting its reporter's confirmation and queue the confirmation mail.

    Returns None when the mailbox is over its daily cap of such mail: the caller answers as for
    success (so the form cannot be used to learn anything, or to flood an inbox), nothing is kept.
    """
    month = month.replace(day=1)
    month_check(month)
    allowed = set(lists_for(issue_area.slug))
    for vocabulary, term in choices.items():
        if vocabulary not in FIELDS or vocabulary not in allowed:
            raise EvidenceError(_("This form does not ask for that."))
        if term is not None and (
            term.issue_area_id != issue_area.pk
            or term.vocabulary != vocabulary
            or not term.is_active
        ):
            raise EvidenceError(_("Choose from the options on the form."))
    for term in documents:
        if (
            term.issue_area_id != issue_area.pk
            or term.vocabulary != Term.Vocabulary.DOCUMENT
            or not term.is_active
        ):
            raise EvidenceError(_("Choose from the options on the form."))
    if (
        choices.get(Term.Vocabulary.EVENT) is None
        and not others.get(Term.Vocabulary.EVENT, "").strip()
    ):
        raise EvidenceError(_("Say what happened."))
    desks = {org.pk for org in case_desks(issue_area=issue_area)}
    consents = [org for org in consents or [] if org.pk in desks]
    others = {k: v.strip()[:200] for k, v in others.items() if k in allowed and v.strip()}
    digest = email_digest(email)
    # One lock and one daily budget for the mail of every public form (outbox/mailbox_cap.py):
    # signing and the agenda's mail to this mailbox count here, and this mail counts there.
    if not mailbox_may_be_mailed(digest):
        logger.warning("reporter mail cap reached; report dropped")
        return None
    report = CaseReport.objects.create(
        issue_area=issue_area,
        country=country,
        month=month,
        other_answers=json.dumps(others, ensure_ascii=False) if others else "",
        account=account.strip(),
        publish_account=bool(publish_account and account.strip()),
        email=email.strip(),
        email_digest=digest,
        language=(translation.get_language() or settings.LANGUAGE_CODE)[:2],
        **{FIELDS[vocabulary]: term for vocabulary, term in choices.items()},
    )
    report.documents.set(documents)
    ReportConsent.objects.bulk_create(
        [ReportConsent(report=report, organization=org) for org in consents]
    )
    _mail_reporter(report, "confirm", consents=consents)
    return report


def consents_token(report: CaseReport) -> str:
    return token_make(report.pk, "consents")


def report_by_consents_token(*, token: str) -> CaseReport | None:
    report_id = token_read(token, "consents", None)
    if report_id is None:
        return None
    return CaseReport.objects.select_related("issue_area").filter(pk=report_id).first()


@transaction.atomic
def report_consent_withdraw(*, token: str, organization: Organization) -> CaseReport:
    """The reporter takes back one organization's permission to contact them, from the link in
    their confirmation mail (no account; the other organizations keep theirs). The organization
    can no longer look the address up; an address it looked up before, it has."""
    report = report_by_consents_token(token=token)
    if report is None:
        raise EvidenceError(_("This link is not valid or has expired."))
    deleted, _by_model = ReportConsent.objects.filter(
        report=report, organization=organization
    ).delete()
    if not deleted:
        raise EvidenceError(_("This organization no longer has your permission."))
    return report


def report_by_token(*, token: str) -> CaseReport | None:
    report_id = token_read(token, "confirm", settings.EVIDENCE_CONFIRM_WITHIN)
    if report_id is None:
        return None
    return CaseReport.objects.select_related("issue_area").filter(pk=report_id).first()


@transaction.atomic
def report_confirm(*, token: str) -> CaseReport:
    """Follow the emailed link: the report now counts (as reported). Following it again is
    harmless."""
    report_id = token_read(token, "confirm", settings.EVIDENCE_CONFIRM_WITHIN)
    if report_id is None:
        raise EvidenceError(_("This link is not valid or has expired."))
    report = CaseReport.objects.select_for_update().filter(pk=report_id).first()
    if report is None:
        raise EvidenceError(_("This report no longer exists."))
    if report.status == CaseReport.Status.PENDING:
        report.status = CaseReport.Status.CONFIRMED
        report.confirmed_at = timezone.now()
        report.save(update_fields=["status", "confirmed_at"])
    return report


# --- moderation --------------------------------------------------------------------------------


def moderator_check(*, organization: Organization, user: User) -> None:
    """Admins and editors of a member organization moderate (the views add two-factor)."""
    if not organization.is_member:
        raise EvidenceError(_("Only member organizations moderate case reports."))
    if not Membership.objects.filter(
        user=user, organization=organization, role__in=MODERATOR_ROLES
    ).exists():
        raise EvidenceError(_("Your role in this organization does not allow this."))


def _log(
    *,
    action: str,
    organization: Organization,
    user: User,
    reason: str,
    report: CaseReport | None = None,
    term: Term | None = None,
) -> ModerationLog:
    reason = reason.strip()
    if len(reason) < 3:
        raise EvidenceError(_("Say why, for the moderation log."))
    return ModerationLog.objects.create(
        action=action,
        organization=organization,
        user=user,
        reason=reason[:500],
        report=report,
        report_number=report.pk if report else None,
        term=term,
    )


@transaction.atomic
def report_moderate(
    *,
    report: CaseReport,
    organization: Organization,
    user: User,
    action: str,
    reason: str,
    redacted: str = "",
) -> CaseReport:
    """Verify or reject a confirmed report, or write its public (redacted) version; logged."""
    moderator_check(organization=organization, user=user)
    report = CaseReport.objects.select_for_update().get(pk=report.pk)
    if report.status == CaseReport.Status.PENDING:
        raise EvidenceError(_("The reporter has not confirmed this report yet."))
    redacted = redacted.strip()
    now = timezone.now()
    if action == ModerationLog.Action.APPROVE:
        report_redaction_check(report=report, organization=organization)
        _log(action=action, organization=organization, user=user, reason=reason, report=report)
        report.account_approved_at = now
        report.save(update_fields=["account_approved_at"])
        return report
    if action == ModerationLog.Action.REDACT or redacted:
        if not report.publish_account:
            raise EvidenceError(_("The reporter did not allow their account to be published."))
        if len(redacted) > 3000:
            raise EvidenceError(_("The public version is at most 3,000 characters."))
        if redacted and redaction_too_close(redacted, report.account):
            raise EvidenceError(
                _(
                    "The public version is almost the reporter's own words. Write it yourself: "
                    "remove names, dates, places and anything else that could identify the "
                    "reporter."
                )
            )
    if action == ModerationLog.Action.VERIFY:
        if report.status == CaseReport.Status.VERIFIED and not redacted:
            raise EvidenceError(_("This report is verified already."))
        if report.verified_at is None or report.status == CaseReport.Status.REJECTED:
            report.verified_at = now  # set once; only a rejection in between starts it again
        report.status, report.rejected_at = CaseReport.Status.VERIFIED, None
    elif action == ModerationLog.Action.REJECT:
        if report.status == CaseReport.Status.REJECTED:
            raise EvidenceError(_("This report is rejected already."))
        report.status, report.rejected_at = CaseReport.Status.REJECTED, now
    elif action == ModerationLog.Action.REDACT:
        pass
    else:
        raise EvidenceError(_("Unknown moderation action."))
    _log(action=action, organization=organization, user=user, reason=reason, report=report)
    if redacted and action != ModerationLog.Action.REJECT:
        if action != ModerationLog.Action.REDACT:
            _log(action=ModerationLog.Action.REDACT, organization=organization, user=user,
                 reason=reason, report=report)  # fmt: skip
        if redacted != report.account_redacted:
            # A new text waits for a second organization's approval and a release batch again.
            report.account_redacted, report.account_redacted_by = redacted, organization
            report.account_approved_at = report.account_released_at = None
    report.moderated_at = now
    report.save(
        update_fields=[
            "status", "verified_at", "rejected_at", "account_redacted", "account_redacted_by",
            "account_approved_at", "account_released_at", "moderated_at",
        ]
    )  # fmt: skip
    return report


def redaction_too_close(redacted: str, account: str) -> bool:
    """The public version is (nearly) the reporter's own words: a copy with a dot added or a
    word changed is refused as an exact copy is, and so is the account copied whole inside
    filler (which lowers the overall ratio): runs of 12 or more characters copied from the
    account may not cover more than the same share of it."""
    limit = settings.EVIDENCE_REDACTION_MAX_SIMILARITY
    a, b = " ".join(redacted.lower().split()), " ".join(account.lower().split())
    if not b:
        return False
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    copied = sum(block.size for block in matcher.get_matching_blocks() if block.size >= 12)
    return a == b or matcher.ratio() > limit or copied / len(b) > limit


def report_redaction_check(*, report: CaseReport, organization: Organization) -> None:
    """A public version is approved by a moderator of a member organization other than the
    one that wrote it (a single hostile moderator cannot publish a reporter's words)."""
    if not report.account_redacted or not report.publish_account:
        raise EvidenceError(_("This report has no public version to approve."))
    if report.account_approved_at is not None:
        raise EvidenceError(_("This public version is approved already."))
    if report.account_redacted_by_id in {None, organization.pk}:
        raise EvidenceError(
            _("A moderator of another member organization must approve this public version.")
        )


def accounts_release(*, now: datetime | None = None) -> int:
    """Release approved public versions on a coarse schedule of their own (daily task; see
    evidence/aggregates.py rule 6): only on release days, only accounts verified and approved
    at least EVIDENCE_ACCOUNT_DELAY_DAYS ago, and only in batches of at least k per issue area;
    a smaller batch waits for the next release day."""
    now = now or timezone.now()
    every = settings.EVIDENCE_ACCOUNT_RELEASE_EVERY_DAYS  # at least 1 (checked at start-up)
    delay = timedelta(days=settings.EVIDENCE_ACCOUNT_DELAY_DAYS)
    day = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    if (day - datetime(1970, 1, 1, tzinfo=UTC)).days % every:
        return 0
    ready = CaseReport.objects.filter(
        status=CaseReport.Status.VERIFIED,
        publish_account=True,
        account_released_at__isnull=True,
        verified_at__lte=day - delay,
        account_approved_at__lte=day - delay,
    ).exclude(account_redacted="")
    released = 0
    for area_id in set(ready.values_list("issue_area_id", flat=True)):
        batch = ready.filter(issue_area_id=area_id)
        if batch.count() >= aggregates.min_cell():
            released += batch.update(account_released_at=day)
    return released


@transaction.atomic
def report_contact(
    *, report: CaseReport, organization: Organization, user: User, reason: str
) -> str:
    """The reporter's address, for an organization the reporter allowed to write; logged."""
    moderator_check(organization=organization, user=user)
    if report.status not in {CaseReport.Status.CONFIRMED, CaseReport.Status.VERIFIED}:
        raise EvidenceError(_("This report cannot be followed up."))
    if not ReportConsent.objects.filter(report=report, organization=organization).exists():
        raise EvidenceError(_("The reporter did not allow your organization to contact them."))
    if not report.email:
        raise EvidenceError(_("The reporter's address was deleted after the retention period."))
    _log(action=ModerationLog.Action.CONTACT, organization=organization, user=user,
         reason=reason, report=report)  # fmt: skip
    return report.email


@transaction.atomic
def report_account_read(
    *, report: CaseReport, organization: Organization, user: User, reason: str
) -> str:
    """The reporter's own account and "other" answers (private words, which may name people and
    places), for a moderator who says why; logged like a contact look-up, so every member
    organization sees who read which report's words and why."""
    moderator_check(organization=organization, user=user)
    if report.status not in {
        CaseReport.Status.CONFIRMED,
        CaseReport.Status.VERIFIED,
        CaseReport.Status.REJECTED,
    }:
        raise EvidenceError(_("The reporter has not confirmed this report yet."))
    if not (report.account or report.other_answers):
        raise EvidenceError(_("This report has no account in the reporter's own words."))
    _log(action=ModerationLog.Action.ACCOUNT, organization=organization, user=user,
         reason=reason, report=report)  # fmt: skip
    return report.account


# --- the lists ---------------------------------------------------------------------------------


@transaction.atomic
def term_add(
    *,
    issue_area: IssueArea,
    vocabulary: str,
    name_en: str,
    name_ru: str,
    organization: Organization | None = None,
    user: User | None = None,
    reason: str = "",
) -> Term:
    """Add a list entry. From a workspace (``organization``) it is a logged moderation act."""
    if organization is not None:
        if user is None:
            raise EvidenceError(_("Your role in this organization does not allow this."))
        moderator_check(organization=organization, user=user)
    name_en, name_ru = name_en.strip(), name_ru.strip()
    if vocabulary not in Term.Vocabulary.values:
        raise EvidenceError(_("Choose one of the lists."))
    if not name_en or not name_ru:
        raise EvidenceError(_("Give the entry's name in English and in Russian."))
    if Term.objects.filter(
        issue_area=issue_area, vocabulary=vocabulary, name_en__iexact=name_en
    ).exists():
        raise EvidenceError(_("This list already has that entry."))
    term = Term.objects.create(
        issue_area=issue_area, vocabulary=vocabulary, name_en=name_en, name_ru=name_ru,
        added_by=organization,
        # A moderator's entry waits for a second organization (term_approve) before the public
        # form offers it: one moderator alone cannot put a slur or a person's name on it.
        approved_at=None if organization is not None else timezone.now(),
    )  # fmt: skip
    if organization is not None and user is not None:
        _log(action=ModerationLog.Action.TERM_ADD, organization=organization, user=user,
             reason=reason or _("new entry"), term=term)  # fmt: skip
    return term


@transaction.atomic
def term_retire(
    *, term: Term, organization: Organization, user: User, reason: str, restore: bool = False
) -> Term:
    """Retire an entry (new reports can no longer choose it; old ones keep it), or restore it."""
    moderator_check(organization=organization, user=user)
    term = Term.objects.select_for_update().get(pk=term.pk)
    if restore == (term.retired_at is None):
        raise EvidenceError(
            _("This entry is in use already.") if restore else _("This entry is retired already.")
        )
    term.retired_at = None if restore else timezone.now()
    term.save(update_fields=["retired_at"])
    action = ModerationLog.Action.TERM_RESTORE if restore else ModerationLog.Action.TERM_RETIRE
    _log(action=action, organization=organization, user=user, reason=reason, term=term)
    return term


@transaction.atomic
def term_approve(*, term: Term, organization: Organization, user: User, reason: str) -> Term:
    """A moderator of a member organization other than the one that added the entry puts it on
    the public form (staff may also set "approved" in the admin); logged."""
    moderator_check(organization=organization, user=user)
    term = Term.objects.select_for_update().get(pk=term.pk)
    if term.approved_at is not None:
        raise EvidenceError(_("This entry is approved already."))
    if term.added_by_id in {None, organization.pk}:
        raise EvidenceError(_("A moderator of another member organization must approve it."))
    term.approved_at = timezone.now()
    term.save(update_fields=["approved_at"])
    _log(action=ModerationLog.Action.TERM_APPROVE, organization=organization, user=user,
         reason=reason, term=term)  # fmt: skip
    return term


@transaction.atomic
def desks_set(*, organization: Organization, user: User, areas: list[IssueArea]) -> None:
    """The issue areas whose reporters this organization offers to contact (admins only)."""
    if not Membership.objects.filter(
        user=user, organization=organization, role=Membership.Role.ADMIN
    ).exists():
        raise EvidenceError(_("Only the organization's admins choose this."))
    if not organization.is_member:
        raise EvidenceError(_("Only member organizations moderate case reports."))
    before = set(CaseDesk.objects.filter(organization=organization).values_list(
        "issue_area__slug", flat=True))  # fmt: skip
    CaseDesk.objects.filter(organization=organization).exclude(issue_area__in=areas).delete()
    for area in areas:
        CaseDesk.objects.get_or_create(organization=organization, issue_area=area)
    after = {area.slug for area in areas}
    if after != before:
        # Which organizations reporters may let write to them: every change is in the log.
        _log(action=ModerationLog.Action.DESKS, organization=organization, user=user,
             reason="areas: " + (", ".join(sorted(after)) or "-"))  # fmt: skip


# --- evidence summaries ------------------------------------------------------------------------


def _cosponsor_check(*, organization: Organization, campaign_id: int) -> None:
    if not CoSponsorship.objects.filter(
        campaign_id=campaign_id, organization=organization, status=CoSponsorship.Status.ACCEPTED
    ).exists():
        raise EvidenceError(_("Only the campaign's co-sponsors attach evidence to it."))


@transaction.atomic
def summary_attach(
    *,
    organization: Organization,
    user: User,
    issue_area: IssueArea,
    letter_campaign: LetterCampaign | None = None,
    delivery: PetitionDelivery | None = None,
) -> EvidenceSummary:
    """Attach an area's evidence to letters or a delivery that have not gone out yet."""
    if (letter_campaign is None) == (delivery is None):
        raise EvidenceError(_("Choose the letters or the delivery."))
    exists = EvidenceSummary.objects.none()
    campaign_id = 0
    if not Membership.objects.filter(
        user=user, organization=organization, role__in=MODERATOR_ROLES
    ).exists():
        raise EvidenceError(_("Your role in this organization does not allow this."))
    if letter_campaign is not None:
        campaign_id = letter_campaign.campaign_id
        if OutcomeEvent.objects.filter(link=f"letters:{letter_campaign.pk}").exists():
            raise EvidenceError(_("These letters are already going out."))
        exists = EvidenceSummary.objects.filter(
            letter_campaign=letter_campaign, issue_area=issue_area
        )
    elif delivery is not None:
        campaign_id = delivery.petition.campaign_id
        if delivery.status != PetitionDelivery.Status.AWAITING_APPROVAL:
            raise EvidenceError(_("This delivery has gone out already."))
        # The link goes into the mail the co-sponsors approve: not after any of them did.
        act = outreach_services.delivery_act(delivery)
        if act is not None and act.answers.exists():
            raise EvidenceError(
                _("Co-sponsors have begun approving this delivery: attach evidence before they do.")
            )
        exists = EvidenceSummary.objects.filter(delivery=delivery, issue_area=issue_area)
    _cosponsor_check(organization=organization, campaign_id=campaign_id)
    if exists.exists():
        raise EvidenceError(_("This evidence is attached already."))
    return EvidenceSummary.objects.create(
        campaign_id=campaign_id,
        issue_area=issue_area,
        letter_campaign=letter_campaign,
        delivery=delivery,
        attached_by=organization,
        attached_by_user=user,
    )


def summary_freeze(*, summary: EvidenceSummary, outcome: OutcomeEvent | None) -> EvidenceSummary:
    """Store the tables as they are published now: the summary never changes again."""
    if summary.frozen_at is not None:
        return summary
    now = timezone.now()
    as_of = aggregates.as_of_now(now)
    summary.tables = aggregates.area_tables(issue_area=summary.issue_area, as_of=as_of)
    summary.as_of, summary.frozen_at, summary.outcome = as_of, now, outcome
    summary.save(update_fields=["tables", "as_of", "frozen_at", "outcome"])
    if outcome is not None and not outcome.evidence_url:
        # The timeline's "evidence" link: the first summary frozen with this step.
        url = settings.SITE_URL + summary.get_absolute_url()
        OutcomeEvent.objects.filter(pk=outcome.pk, evidence_url="").update(evidence_url=url)
    return summary


@transaction.atomic  # joins the caller's transaction; a caller in autocommit gets its own
def on_outcome_recorded(*, outcome: OutcomeEvent) -> None:
    """Letters or a delivery went out: freeze the evidence attached to them (same transaction)."""
    summaries = EvidenceSummary.objects.select_for_update().filter(frozen_at__isnull=True)
    if outcome.kind == OutcomeEvent.Kind.LETTER_WAVE and outcome.link.startswith("letters:"):
        number = outcome.link.partition(":")[2]
        summaries = summaries.filter(letter_campaign_id=int(number) if number.isdigit() else 0)
    elif outcome.kind == OutcomeEvent.Kind.PETITION_DELIVERED:
        summaries = summaries.filter(
            delivery__petition__campaign_id=outcome.campaign_id,
            delivery__status=PetitionDelivery.Status.SENT,
        )
    else:
        return
    for summary in summaries:
        summary_freeze(summary=summary, outcome=outcome)


def delivery_lines(delivery: PetitionDelivery) -> list[str]:
    """For the delivery's mail to officials: where the evidence attached to it is published
    (frozen in the same transaction, once the mail is queued)."""
    return [
        f"Evidence from emigres' case reports ({summary.issue_area.name_en}): "
        f"{settings.SITE_URL}{summary.get_absolute_url()}"
        for summary in EvidenceSummary.objects.filter(delivery=delivery).select_related(
            "issue_area"
        )
    ]


# --- erasure and retention ---------------------------------------------------------------------


def reports_erase(digest: str) -> int:
    """Every report made with this mailbox goes, with its consents; its log rows keep only
    the report's number (who moderated what, without the report) and lose their free-text
    reason, which may quote the report."""
    reports = CaseReport.objects.filter(email_digest=digest)
    ModerationLog.objects.filter(report__in=reports).update(reason="(erased)")
    deleted, _by_model = reports.delete()
    return deleted


def reports_purge(*, now: datetime | None = None) -> int:
    """Retention (daily): unconfirmed, rejected and never-reviewed reports go; verified ones
    lose the reporter's address, their own words and their consents after a while."""
    now = now or timezone.now()
    purged = 0
    for queryset in (
        CaseReport.objects.filter(
            status=CaseReport.Status.PENDING,
            created_at__lt=now - settings.EVIDENCE_CONFIRM_WITHIN,
        ),
        CaseReport.objects.filter(
            status=CaseReport.Status.REJECTED,
            moderated_at__lt=now - settings.EVIDENCE_REJECTED_RETENTION,
        ),
        CaseReport.objects.filter(
            status=CaseReport.Status.CONFIRMED,
            confirmed_at__lt=now - settings.EVIDENCE_UNREVIEWED_RETENTION,
        ),
    ):
        count, _by_model = queryset.delete()
        purged += count
    old = CaseReport.objects.filter(
        status=CaseReport.Status.VERIFIED,
        confirmed_at__lt=now - settings.EVIDENCE_CONTACT_RETENTION,
    ).exclude(email="", account="", other_answers="")
    ReportConsent.objects.filter(report__in=old).delete()
    purged += old.update(email="", account="", other_answers="")
    return purged


def hooks_register() -> None:
    events.event_subscribe(name=events.OUTCOME_RECORDED, subscriber=on_outcome_recorded)
    privacy_services.erasure_hook_register(reports_erase)
    outreach_services.delivery_extra_register(delivery_lines)
