"""Reads for the evidence pages and the moderators' workspace."""

from __future__ import annotations

import json
from dataclasses import dataclass

from django.db.models import QuerySet

from campaigns.models import CoSponsorship, IssueArea
from evidence.models import CaseReport, EvidenceSummary, ModerationLog, ReportConsent, Term
from members.models import Organization
from outreach.models import LetterCampaign, PetitionDelivery


def issue_area_public(*, slug: str) -> IssueArea | None:
    return IssueArea.objects.filter(slug=slug).first()


def reports_to_review(*, status: str) -> QuerySet[CaseReport]:
    """What moderators see: confirmed reports (never pending ones: nobody confirmed them)."""
    return (
        CaseReport.objects.filter(status=status)
        .exclude(status=CaseReport.Status.PENDING)
        .select_related("issue_area", "institution", "event")
        .order_by("confirmed_at", "pk")
    )


def redactions_to_approve(*, organization: Organization) -> QuerySet[CaseReport]:
    """Public versions written by another organization, waiting for this one's approval."""
    return (
        CaseReport.objects.filter(
            publish_account=True,
            account_approved_at__isnull=True,
            status__in=[CaseReport.Status.CONFIRMED, CaseReport.Status.VERIFIED],
        )
        .exclude(account_redacted="")
        .exclude(account_redacted_by=organization)
        .exclude(account_redacted_by__isnull=True)
        .select_related("issue_area")
        .order_by("moderated_at", "pk")
    )


def report_for_moderator(*, pk: int) -> CaseReport | None:
    return (
        CaseReport.objects.exclude(status=CaseReport.Status.PENDING)
        .select_related(
            "issue_area", "institution", "place", "event", "reason", "residence_status", "outcome"
        )
        .filter(pk=pk)
        .first()
    )


def report_others(report: CaseReport) -> dict[str, str]:
    try:
        others = json.loads(report.other_answers) if report.other_answers else {}
    except ValueError:
        return {}
    return others if isinstance(others, dict) else {}


def report_consents_to(*, report: CaseReport, organization: Organization) -> bool:
    return ReportConsent.objects.filter(report=report, organization=organization).exists()


def report_consenting_organizations(*, report: CaseReport) -> QuerySet[Organization]:
    """The organizations the reporter allowed to contact them about this report."""
    return Organization.objects.filter(
        pk__in=ReportConsent.objects.filter(report=report).values("organization_id")
    ).order_by("name")


def reports_consenting_to(*, organization: Organization) -> QuerySet[CaseReport]:
    return (
        CaseReport.objects.filter(
            consents__organization=organization,
            status__in=[CaseReport.Status.CONFIRMED, CaseReport.Status.VERIFIED],
        )
        .select_related("issue_area", "event")
        .order_by("-confirmed_at")
    )


def moderation_log(*, limit: int = 200) -> QuerySet[ModerationLog]:
    return ModerationLog.objects.select_related("organization", "user", "term")[:limit]


def terms_of(*, issue_area: IssueArea | None = None) -> QuerySet[Term]:
    terms = Term.objects.select_related("issue_area", "added_by")
    if issue_area is not None:
        terms = terms.filter(issue_area=issue_area)
    return terms.order_by("issue_area__position", "vocabulary", "retired_at", "name_en")


def public_accounts(*, issue_area: IssueArea, limit: int = 50) -> list[str]:
    """Redacted accounts the reporters allowed: the text only, nothing that links it to a row
    of the tables (no country, bank or month beside it), approved by a second organization and
    released in batches on a schedule of their own (services.accounts_release), so a text
    appearing cannot be tied to the moment its report was reviewed."""
    return [
        text
        for text in CaseReport.objects.filter(
            issue_area=issue_area,
            status=CaseReport.Status.VERIFIED,
            publish_account=True,
            account_approved_at__isnull=False,
            account_released_at__isnull=False,
        )
        .exclude(account_redacted="")
        .order_by("?")  # no order that follows the reports' dates
        .values_list("account_redacted", flat=True)[:limit]
    ]


@dataclass(frozen=True)
class Target:
    value: str
    label: str


def summary_targets(*, organization: Organization) -> list[Target]:
    """Letters and deliveries not yet gone out, of campaigns this organization co-sponsors."""
    campaign_ids = CoSponsorship.objects.filter(
        organization=organization, status=CoSponsorship.Status.ACCEPTED
    ).values("campaign_id")
    targets = [
        Target(f"letters:{lc.pk}", f"{lc.campaign.title} — {lc.subject_en or lc.subject_ru}")
        for lc in LetterCampaign.objects.filter(campaign_id__in=campaign_ids).select_related(
            "campaign"
        )
    ]
    targets += [
        Target(f"delivery:{d.pk}", f"{d.petition.title} — #{d.pk}")
        for d in PetitionDelivery.objects.filter(
            petition__campaign_id__in=campaign_ids,
            status=PetitionDelivery.Status.AWAITING_APPROVAL,
        ).select_related("petition")
    ]
    return targets


def summaries_of(*, organization: Organization) -> QuerySet[EvidenceSummary]:
    return EvidenceSummary.objects.filter(attached_by=organization).select_related(
        "campaign", "issue_area"
    )


def summary_public(*, pk: int) -> EvidenceSummary | None:
    return (
        EvidenceSummary.objects.filter(pk=pk, frozen_at__isnull=False)
        .select_related("campaign", "issue_area")
        .first()
    )
