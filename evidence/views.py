"""Views: check access, validate a form, call one service, respond."""

from __future__ import annotations

import csv
import io
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from campaigns import pow
from campaigns.limits import sign_ip_limit
from campaigns.models import IssueArea
from evidence import aggregates, charts, selectors, services
from evidence.forms import (
    AccountForm,
    ConsentWithdrawForm,
    ContactForm,
    DeskForm,
    ModerationForm,
    ReportForm,
    SummaryForm,
    TermForm,
    TermRetireForm,
)
from evidence.limits import report_limits
from evidence.models import CaseDesk, CaseReport, Term
from evidence.vocabularies import label_for
from foundation.csvsafe import csv_row
from foundation.forms_flow import form_flow
from foundation.ratelimit import limit
from members import access
from members.models import Organization
from outreach.models import LetterCampaign, PetitionDelivery

# --- access -----------------------------------------------------------------------------------


def _moderator_for(request: HttpRequest, org: str) -> Organization:
    """A moderator acts for a member organization as its admin or editor, with two-factor
    sign-in: moderators read what reporters wrote (signer_data also refuses a suspended org)."""
    organization, _membership = access.organization_for(
        request, org, roles=access.EDITORS, signer_data=True
    )
    return organization


# --- public -----------------------------------------------------------------------------------


def index(request: HttpRequest) -> HttpResponse:
    return render(request, "evidence/index.html", {"areas": IssueArea.objects.all()})


def _area(slug: str) -> IssueArea:
    area = selectors.issue_area_public(slug=slug)
    if area is None:
        raise Http404
    return area


@never_cache
def report(request: HttpRequest, area: str) -> HttpResponse:
    issue_area = _area(area)
    desks = services.case_desks(issue_area=issue_area)
    form = ReportForm(request.POST or None, issue_area=issue_area, desks=desks)
    if request.method == "POST":
        sign_ip_limit(request)
        if form.is_valid():
            done = reverse("evidence:sent")
            if form.is_bot:
                return redirect(done)  # look like success; write nothing
            # The signing budgets (evidence/limits.py): a report costs what a signature costs,
            # and without JavaScript the aged form token is the price (foundation/nojs.py).
            if form.pow_verified or form.nojs_token_check():
                report_limits(
                    request, email=form.cleaned_data["email"], pow_verified=form.pow_verified
                )
                try:
                    services.report_create(**form.report_data())
                except services.EvidenceError as exc:
                    form.add_error(None, str(exc))
                else:
                    return redirect(done)
    context = {"issue_area": issue_area, "form": form, "pow_challenge": pow.challenge_json()}
    return render(request, "evidence/report.html", context, status=400 if form.errors else 200)


def sent(request: HttpRequest) -> HttpResponse:
    return render(request, "evidence/sent.html")


@never_cache
def confirm(request: HttpRequest, token: str) -> HttpResponse:
    """GET shows what is being confirmed with a button; POST confirms (mail scanners GET)."""
    template = "evidence/confirm.html"
    report = services.report_by_token(token=token)
    if report is None:
        error = _("This link is not valid or has expired.")
        return render(request, template, {"error": error}, status=400)
    if request.method != "POST":
        return render(request, template, {"report": report})
    limit(request, scope="signer_link")
    try:
        report = services.report_confirm(token=token)
    except services.EvidenceError as exc:
        return render(request, template, {"error": str(exc)}, status=400)
    context = {"report": report, "done": True}
    if selectors.report_consenting_organizations(report=report).exists():
        context["consents_token"] = services.consents_token(report)
    return render(request, template, context)


@never_cache
def consents(request: HttpRequest, token: str) -> HttpResponse:
    """The reporter's own link (in the confirmation mail): the organizations they allowed to
    contact them, each with a button that takes the permission back. No account."""
    template = "evidence/consents.html"
    report = services.report_by_consents_token(token=token)
    if report is None:
        error = _("This link is not valid or has expired.")
        return render(request, template, {"error": error}, status=400)
    organizations = selectors.report_consenting_organizations(report=report)
    form = ConsentWithdrawForm(request.POST or None, organizations=organizations)
    withdrawn = None
    if request.method == "POST":
        limit(request, scope="signer_link")
        if form.is_valid():
            try:
                services.report_consent_withdraw(
                    token=token, organization=form.cleaned_data["organization"]
                )
            except services.EvidenceError as exc:
                form.add_error(None, str(exc))
            else:
                withdrawn = form.cleaned_data["organization"]
                form = ConsentWithdrawForm(organizations=organizations)
    return render(
        request,
        template,
        {"report": report, "organizations": organizations, "form": form, "withdrawn": withdrawn},
        status=400 if form.errors else 200,
    )


def _tables(issue_area: IssueArea) -> dict[str, Any]:
    """The area's figures; with the daily cut-off they change rarely, so a public page (and any
    bot hammering it) costs one scan of the reports per area every few minutes, not per view."""
    as_of = aggregates.as_of_now()
    if settings.EVIDENCE_AS_OF_DAYS <= 0:
        return aggregates.area_tables(issue_area=issue_area, as_of=as_of)
    key = f"evidence:tables:{issue_area.slug}:{as_of.isoformat()}:{aggregates.min_cell()}"
    try:
        cached = cache.get(key)
    except Exception:  # the cache is down: compute, as every page does then
        cached = None
    if cached is None:
        cached = aggregates.area_tables(issue_area=issue_area, as_of=as_of)
        try:
            cache.set(key, cached, timeout=300)
        except Exception:  # noqa: S110 - the figures are served either way
            pass
    return dict(cached)


def evidence(request: HttpRequest, area: str) -> HttpResponse:
    issue_area = _area(area)
    data = _tables(issue_area)
    return render(
        request,
        "evidence/evidence.html",
        {
            "issue_area": issue_area,
            "data": data,
            "sections": charts.sections(data),
            "accounts": selectors.public_accounts(issue_area=issue_area),
        },
    )


def _csv(data: dict[str, Any]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["dimension", "key", "label", "reported", "verified", "as_of", "min_cell"])
    for dimension, rows in data["tables"].items():
        for row in rows:
            label = aggregates.label(row)
            writer.writerow(
                csv_row(
                    [
                        dimension,
                        row["key"],
                        label,
                        "" if row["reported"] is None else row["reported"],
                        "" if row["verified"] is None else row["verified"],
                        data["as_of"],
                        data["min_cell"],
                    ]
                )
            )
    return out.getvalue()


def evidence_data(request: HttpRequest, area: str, fmt: str) -> HttpResponse:
    """Open data: the same suppressed tables as the page (null: fewer than min_cell)."""
    issue_area = _area(area)
    data = _tables(issue_area)
    if fmt == "json":
        response: HttpResponse = JsonResponse(data, json_dumps_params={"ensure_ascii": False})
    elif fmt == "csv":
        response = HttpResponse(_csv(data), content_type="text/csv; charset=utf-8")
    else:
        raise Http404
    response["Content-Disposition"] = f'inline; filename="evidence-{issue_area.slug}.{fmt}"'
    return response


def summary(request: HttpRequest, pk: int) -> HttpResponse:
    frozen = selectors.summary_public(pk=pk)
    if frozen is None or frozen.tables is None:
        raise Http404
    return render(
        request,
        "evidence/summary.html",
        {"summary": frozen, "data": frozen.tables, "sections": charts.sections(frozen.tables)},
    )


# --- moderators' workspace --------------------------------------------------------------------


@login_required
def moderation(request: HttpRequest, org: str) -> HttpResponse:
    organization = _moderator_for(request, org)
    status = request.GET.get("status", CaseReport.Status.CONFIRMED)
    if status not in {
        CaseReport.Status.CONFIRMED,
        CaseReport.Status.VERIFIED,
        CaseReport.Status.REJECTED,
    }:
        status = CaseReport.Status.CONFIRMED
    return render(
        request,
        "evidence/moderation.html",
        {
            "organization": organization,
            "reports": selectors.reports_to_review(status=status)[:200],
            "status": status,
            "statuses": [
                (value, label)
                for value, label in CaseReport.Status.choices
                if value != CaseReport.Status.PENDING
            ],
            "consenting": selectors.reports_consenting_to(organization=organization)[:200],
            "to_approve": selectors.redactions_to_approve(organization=organization)[:200],
        },
    )


def _others(report: CaseReport) -> dict[str, str]:
    """The reporter's "other (describe)" answers by the list's label."""
    return {
        str(label_for(report.issue_area.slug, key)): text
        for key, text in selectors.report_others(report).items()
        if key in Term.Vocabulary.values
    }


@login_required
def moderation_report(request: HttpRequest, org: str, pk: int) -> HttpResponse:
    organization = _moderator_for(request, org)
    report = selectors.report_for_moderator(pk=pk)
    if report is None:
        raise Http404
    form = ModerationForm(request.POST or None)

    def save(data: dict[str, Any]) -> CaseReport:
        return services.report_moderate(
            report=report, organization=organization, user=access.request_user(request), **data
        )

    return form_flow(
        request,
        form,
        save=save,
        errors=(services.EvidenceError,),
        success=_("Your decision is recorded in the moderation log."),
        done=lambda r: redirect("evidence:moderation", org=organization.slug),
        template="evidence/moderation_report.html",
        context={
            "organization": organization,
            "report": report,
            # Only which lists have an "other" answer: the answers are the reporter's own words
            # and are read, like the account, with a logged reason (moderation_account).
            "others_given": _others(report).keys(),
            "documents": list(report.documents.all()),
            "may_contact": selectors.report_consents_to(report=report, organization=organization),
            "contact_form": ContactForm(),
            "log": report.log.select_related("organization", "user"),
        },
    )


@login_required
def moderation_account(request: HttpRequest, org: str, pk: int) -> HttpResponse:
    """POST with a reason shows the reporter's own words: read only with a logged reason, as a
    contact look-up is (the report's page shows everything else)."""
    organization = _moderator_for(request, org)
    report = selectors.report_for_moderator(pk=pk)
    if report is None or not (report.account or report.other_answers):
        raise Http404
    form = AccountForm(request.POST or None)
    account, others, shown = "", {}, False
    if request.method == "POST":
        limit(request, scope="org_write", key=f"user:{request.user.pk}")
        if form.is_valid():
            try:
                account = services.report_account_read(
                    report=report,
                    organization=organization,
                    user=access.request_user(request),
                    reason=form.cleaned_data["reason"],
                )
                others, shown = _others(report), True
            except services.EvidenceError as exc:
                form.add_error(None, str(exc))
    return render(
        request,
        "evidence/moderation_account.html",
        {
            "organization": organization,
            "report": report,
            "form": form,
            "shown": shown,
            "account": account,
            "others": others,
            "moderation_form": ModerationForm(),
        },
        status=400 if form.errors else 200,
    )


@login_required
def moderation_contact(request: HttpRequest, org: str, pk: int) -> HttpResponse:
    """POST with a reason shows the address of a reporter who allowed THIS organization."""
    organization = _moderator_for(request, org)
    report = selectors.report_for_moderator(pk=pk)
    if report is None or not selectors.report_consents_to(report=report, organization=organization):
        raise Http404
    form = ContactForm(request.POST or None)
    email = ""
    if request.method == "POST":
        limit(request, scope="org_write", key=f"user:{request.user.pk}")
        if form.is_valid():
            try:
                email = services.report_contact(
                    report=report,
                    organization=organization,
                    user=access.request_user(request),
                    reason=form.cleaned_data["reason"],
                )
            except services.EvidenceError as exc:
                form.add_error(None, str(exc))
    return render(
        request,
        "evidence/moderation_contact.html",
        {"organization": organization, "report": report, "form": form, "email": email},
        status=400 if form.errors else 200,
    )


@login_required
def moderation_log(request: HttpRequest, org: str) -> HttpResponse:
    organization = _moderator_for(request, org)
    return render(
        request,
        "evidence/moderation_log.html",
        {"organization": organization, "log": selectors.moderation_log()},
    )


@login_required
def terms(request: HttpRequest, org: str) -> HttpResponse:
    organization = _moderator_for(request, org)
    form = TermForm(request.POST or None)

    def save(data: dict[str, Any]) -> Term:
        return services.term_add(
            organization=organization, user=access.request_user(request), **data
        )

    return form_flow(
        request,
        form,
        save=save,
        errors=(services.EvidenceError,),
        success=_("The entry is added."),
        done=lambda t: redirect("evidence:terms", org=organization.slug),
        template="evidence/terms.html",
        context={
            "organization": organization,
            "terms": selectors.terms_of(),
            "retire_form": TermRetireForm(),
        },
    )


@login_required
@require_POST
def term_retire(request: HttpRequest, org: str) -> HttpResponse:
    organization = _moderator_for(request, org)
    limit(request, scope="org_write", key=f"user:{request.user.pk}")
    form = TermRetireForm(request.POST)
    if form.is_valid():
        term = Term.objects.filter(pk=form.cleaned_data["term"]).first()
        if term is None:
            raise Http404
        try:
            if form.cleaned_data["approve"]:
                services.term_approve(
                    term=term,
                    organization=organization,
                    user=access.request_user(request),
                    reason=form.cleaned_data["reason"],
                )
            else:
                services.term_retire(
                    term=term,
                    organization=organization,
                    user=access.request_user(request),
                    reason=form.cleaned_data["reason"],
                    restore=form.cleaned_data["restore"],
                )
        except services.EvidenceError as exc:
            messages.error(request, str(exc))
            return render(
                request,
                "evidence/terms.html",
                {"organization": organization, "terms": selectors.terms_of(),
                 "retire_form": form, "form": TermForm()},
                status=400,
            )  # fmt: skip
        messages.success(request, _("The list is updated."))
        return redirect("evidence:terms", org=organization.slug)
    messages.error(request, _("Say why, for the moderation log."))
    return render(
        request,
        "evidence/terms.html",
        {"organization": organization, "terms": selectors.terms_of(), "retire_form": form,
         "form": TermForm()},
        status=400,
    )  # fmt: skip


@login_required
def desks(request: HttpRequest, org: str) -> HttpResponse:
    # Who may be handed reporters' addresses: two-factor sign-in, as for signers' data.
    organization, _membership = access.organization_for(
        request, org, roles=access.ADMIN, signer_data=True
    )
    current = IssueArea.objects.filter(
        pk__in=CaseDesk.objects.filter(organization=organization).values("issue_area_id")
    )
    form = DeskForm(request.POST or None, initial={"areas": list(current)})

    def save(data: dict[str, Any]) -> None:
        services.desks_set(
            organization=organization, user=access.request_user(request), areas=list(data["areas"])
        )

    return form_flow(
        request,
        form,
        save=save,
        errors=(services.EvidenceError,),
        success=_("Saved."),
        done=lambda _r: redirect("evidence:desks", org=organization.slug),
        template="evidence/desks.html",
        context={"organization": organization},
    )


@login_required
def summaries(request: HttpRequest, org: str) -> HttpResponse:
    organization, _membership = access.organization_for(request, org, roles=access.EDITORS)
    targets = selectors.summary_targets(organization=organization)
    form = SummaryForm(request.POST or None, targets=[(t.value, t.label) for t in targets])

    def save(data: dict[str, Any]) -> object:
        kind, _sep, pk = data["target"].partition(":")
        target: dict[str, Any] = {}
        if kind == "letters":
            target["letter_campaign"] = get_object_or_404(LetterCampaign, pk=pk)
        else:
            target["delivery"] = get_object_or_404(PetitionDelivery, pk=pk)
        return services.summary_attach(
            organization=organization,
            user=access.request_user(request),
            issue_area=data["issue_area"],
            **target,
        )

    return form_flow(
        request,
        form,
        save=save,
        errors=(services.EvidenceError,),
        success=_(
            "The evidence is attached. It is frozen when the letters or the delivery go out."
        ),
        done=lambda _s: redirect("evidence:summaries", org=organization.slug),
        template="evidence/summaries.html",
        context={
            "organization": organization,
            "summaries": selectors.summaries_of(organization=organization),
        },
    )
