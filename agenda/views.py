"""Views: check access, validate a form, call one service, respond."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from agenda import selectors, services
from agenda.forms import (
    AnswerForm,
    HideConfirmForm,
    ModerationForm,
    ObjectionForm,
    ProposalForm,
    StaffModerationForm,
    SupportForm,
)
from agenda.models import AnswerMotion, Proposal
from campaigns import pow
from campaigns import selectors as campaign_selectors
from campaigns.limits import sign_ip_limit, sign_limits
from campaigns.models import IssueArea
from foundation.ratelimit import is_onion_request, limit
from members import access
from members.models import Organization

# --- access -----------------------------------------------------------------------------------


def _organization_for_moderator(request: HttpRequest, org: str) -> Organization:
    """An admin or editor of a member organization, signed in with two-factor: moderators read
    what nobody else may yet (a proposal can carry someone's name and address)."""
    organization, _membership = access.organization_for(
        request, org, roles=access.EDITORS, signer_data=True
    )
    return organization


def _organization_for_admin(request: HttpRequest, org: str) -> Organization:
    """An admin of a member organization (two-factor): they answer for it."""
    organization, _membership = access.organization_for(
        request, org, roles=access.ADMIN, signer_data=True
    )
    return organization


def _slug(value: str) -> str:
    """A filter value as typed, or "" for anything no filter could match (NUL, long text)."""
    return value if value.isascii() and value.isprintable() and len(value) <= 40 else ""


# --- public pages -----------------------------------------------------------------------------


def proposal_list(request: HttpRequest) -> HttpResponse:
    status = _slug(request.GET.get("status", ""))
    area = _slug(request.GET.get("area", ""))
    return render(
        request,
        "agenda/proposal_list.html",
        {
            "proposals": selectors.proposals_public(status=status, issue_area=area)[:200],
            "status": status if status in selectors.STATUS_FILTERS else "",
            "area": area,
            "issue_areas": IssueArea.objects.all(),
            "summary": selectors.agenda_summary(),
            "hidden": selectors.hidden_count(),
        },
    )


# Supports and proposals without JavaScript have a global budget of their own: spending the
# petition signers' (``sign_nojs``) let 300 agenda posts lock every Tor signer out for the hour.
AGENDA_NOJS_SCOPE = "agenda_nojs"


def _anti_bot(request: HttpRequest, form: ProposalForm | SupportForm) -> bool:
    """The sign form's price, for a valid form: a solved proof of work, or else the aged form
    token (False, with the reason on the form, when it fails); then the signing budgets."""
    if not (form.pow_verified or form.nojs_token_check()):
        return False
    sign_limits(
        request,
        email=form.cleaned_data["email"],
        pow_verified=form.pow_verified,
        nojs_scope=AGENDA_NOJS_SCOPE,
    )
    return True


def proposal_detail(request: HttpRequest, pk: int) -> HttpResponse:
    proposal = selectors.proposal_public(pk=pk)
    if proposal is None:
        raise Http404
    supportable = proposal.status in services.SUPPORTABLE
    form = SupportForm(request.POST if request.method == "POST" else None)
    if request.method == "POST":
        if not supportable:
            form.add_error(None, _("This proposal does not take supports."))
        else:
            sign_ip_limit(request)
            if form.is_valid():
                done = reverse("agenda:sent")
                if form.is_bot:
                    return redirect(done)  # look like success; write nothing
                if _anti_bot(request, form):
                    try:
                        services.support_create(
                            proposal=proposal,
                            email=form.cleaned_data["email"],
                            wants_answer=form.cleaned_data["wants_answer"],
                        )
                    except services.AgendaError as exc:
                        form.add_error(None, str(exc))
                    else:
                        return redirect(done)
    context = {
        "proposal": proposal,
        "form": form,
        "supportable": supportable,
        "moderation": selectors.proposal_moderation(proposal=proposal),
        "motions": selectors.proposal_motions(proposal=proposal),
        "pow_challenge": pow.challenge_json() if supportable else "",
    }
    return render(
        request, "agenda/proposal_detail.html", context, status=400 if form.errors else 200
    )


def proposal_create(request: HttpRequest) -> HttpResponse:
    form = ProposalForm(request.POST if request.method == "POST" else None)
    if request.method == "POST":
        # Per address, except under the onion host where every visitor has the same one.
        if not is_onion_request(request):
            limit(request, scope="agenda_propose")
        if form.is_valid():
            done = reverse("agenda:sent")
            if form.is_bot:
                return redirect(done)  # look like success; write nothing
            if _anti_bot(request, form):
                data = form.cleaned_data
                try:
                    services.proposal_create(
                        title=data["title"],
                        description=data["description"],
                        issue_area=data["issue_area"],
                        countries=data["countries"],
                        email=data["email"],
                        wants_answer=data["wants_answer"],
                    )
                except services.AgendaError as exc:
                    form.add_error(None, str(exc))
                else:
                    return redirect(done)
    return render(
        request,
        "agenda/proposal_form.html",
        {"form": form, "pow_challenge": pow.challenge_json()},
        status=400 if form.errors else 200,
    )


def sent(request: HttpRequest) -> HttpResponse:
    return render(request, "agenda/sent.html")


@never_cache
def confirm(request: HttpRequest, token: str) -> HttpResponse:
    """GET shows a button, POST confirms: mail scanners that follow links must not confirm."""
    template = "agenda/confirm.html"
    found = services.token_read(token)
    if found is None:
        error = _("This link is not valid or has expired.")
        return render(request, template, {"error": error}, status=400)
    if request.method != "POST":
        return render(request, template, {"kind": found[0]})
    limit(request, scope="signer_link")
    try:
        kind, proposal = services.link_confirm(token=token)
    except services.AgendaError as exc:
        return render(request, template, {"error": str(exc)}, status=400)
    if kind == "p":
        messages.success(
            request,
            _(
                "Thank you! Your proposal is confirmed. It is published once a moderator "
                "has read it."
            ),
        )
        return redirect("agenda:list")
    messages.success(request, _("Thank you! Your support is confirmed."))
    return redirect(proposal.get_absolute_url())


# --- member organizations' workspace ----------------------------------------------------------


def _workspace(
    request: HttpRequest, organization: Organization, *, status: int = 200, **extra: Any
) -> HttpResponse:
    context = {
        "organization": organization,
        "queue": selectors.moderation_queue(),
        "awaiting": selectors.proposals_awaiting(),
        "motions": selectors.motions_open(),
        "hides": selectors.hides_unconfirmed(),
        "moderation_form": ModerationForm(),
        "objection_form": ObjectionForm(),
        **extra,
    }
    return render(request, "agenda/workspace.html", context, status=status)


@login_required
def workspace(request: HttpRequest, org: str) -> HttpResponse:
    return _workspace(request, _organization_for_moderator(request, org))


def _proposal(pk: int, statuses: tuple[str, ...]) -> Proposal:
    return get_object_or_404(
        Proposal.objects.select_related("issue_area"), pk=pk, status__in=statuses
    )


@login_required
@require_POST
def moderate(request: HttpRequest, org: str, pk: int) -> HttpResponse:
    organization = _organization_for_moderator(request, org)
    if request.POST.get("action") == "confirm_hide":
        return _hide_confirm(request, organization, pk)
    proposal = _proposal(pk, (Proposal.Status.IN_REVIEW, *Proposal.PUBLIC))
    limit(request, scope="org_write", key=f"user:{request.user.pk}")
    form = ModerationForm(request.POST)
    user = access.request_user(request)
    if form.is_valid():
        try:
            if form.cleaned_data["action"] == "publish":
                services.proposal_publish(proposal=proposal, organization=organization, user=user)
                messages.success(request, _("The proposal is public now."))
            else:
                services.proposal_hide(
                    proposal=proposal,
                    organization=organization,
                    user=user,
                    reason=form.cleaned_data["reason"],
                )
                messages.success(request, _("The proposal is hidden; the reason is public."))
        except services.AgendaError as exc:
            form.add_error(None, str(exc))
        else:
            return redirect("agenda:workspace", org=organization.slug)
    return _workspace(request, organization, status=400, failed_form=form, failed_pk=proposal.pk)


def _hide_confirm(request: HttpRequest, organization: Organization, pk: int) -> HttpResponse:
    """A moderator of a second organization confirms another organization's hiding."""
    proposal = _proposal(pk, (Proposal.Status.HIDDEN,))
    limit(request, scope="org_write", key=f"user:{request.user.pk}")
    form = HideConfirmForm(request.POST)
    if not form.is_valid():
        error = _("Give the reason; it is published.")
        return _workspace(request, organization, status=400, hide_error=error, failed_pk=pk)
    try:
        services.proposal_hide_confirm(
            proposal=proposal,
            organization=organization,
            user=access.request_user(request),
            reason=form.cleaned_data["reason"],
        )
    except services.AgendaError as exc:
        return _workspace(request, organization, status=400, hide_error=str(exc), failed_pk=pk)
    messages.success(request, _("The hiding is confirmed; it stands."))
    return redirect("agenda:workspace", org=organization.slug)


@login_required
def answer(request: HttpRequest, org: str, pk: int) -> HttpResponse:
    organization = _organization_for_admin(request, org)
    proposal = _proposal(pk, services.ANSWERABLE)
    campaigns = campaign_selectors.campaigns_public()
    form = AnswerForm(request.POST if request.method == "POST" else None, campaigns=campaigns)
    if request.method == "POST":
        limit(request, scope="org_write", key=f"user:{request.user.pk}")
        if form.is_valid():
            data = form.cleaned_data
            user = access.request_user(request)
            try:
                if data["answer"] == "adopt":
                    campaign = services.proposal_adopt(
                        proposal=proposal,
                        organization=organization,
                        user=user,
                        title=data["campaign_title"],
                        summary=data["campaign_summary"],
                    )
                    messages.success(
                        request,
                        _("Adopted. Your campaign is a draft: prepare it and take it live."),
                    )
                    return redirect("campaigns:manage", org=organization.slug, slug=campaign.slug)
                services.motion_propose(
                    proposal=proposal,
                    organization=organization,
                    user=user,
                    kind=form.motion_kind(),
                    reason=data["reason"],
                    campaign=data.get("campaign"),
                    vote=bool(data.get("vote")),
                    campaign_title=data["campaign_title"],
                    campaign_summary=data["campaign_summary"],
                )
            except services.AgendaError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, _("Your motion is published to the coalition."))
                return redirect(proposal.get_absolute_url())
    return render(
        request,
        "agenda/answer.html",
        {"organization": organization, "proposal": proposal, "form": form},
        status=400 if form.errors else 200,
    )


@login_required
@require_POST
def motion_action(request: HttpRequest, org: str, pk: int, action: str) -> HttpResponse:
    organization = _organization_for_admin(request, org)
    motion = get_object_or_404(AnswerMotion, pk=pk)
    if action not in {"object", "withdraw"}:
        raise Http404
    limit(request, scope="org_write", key=f"user:{request.user.pk}")
    user = access.request_user(request)
    form = ObjectionForm(request.POST)
    error = ""
    try:
        if action == "withdraw":
            services.motion_withdraw(motion=motion, organization=organization, user=user)
            messages.success(request, _("The motion is withdrawn."))
        elif form.is_valid():
            services.motion_object(
                motion=motion,
                organization=organization,
                user=user,
                reason=form.cleaned_data["reason"],
            )
            messages.success(request, _("Your objection puts the motion to a coalition vote."))
        else:
            error = _("Give the reason for the objection.")
    except services.AgendaError as exc:
        error = str(exc)
    if error:
        return _workspace(request, organization, status=400, motion_error=error, failed_motion=pk)
    return redirect("agenda:workspace", org=organization.slug)


# --- staff ------------------------------------------------------------------------------------


def staff_moderate(request: HttpRequest, pk: int) -> HttpResponse:
    """Platform staff hide (or restore) a proposal, with a public reason."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path(), login_url=reverse("admin:login"))
    if not access.is_staff(request):
        return redirect_to_login(request.get_full_path(), login_url=reverse("admin:login"))
    proposal = get_object_or_404(
        Proposal,
        pk=pk,
        status__in=(Proposal.Status.IN_REVIEW, Proposal.Status.HIDDEN, *Proposal.PUBLIC),
    )
    form = StaffModerationForm(request.POST if request.method == "POST" else None)
    if request.method == "POST":
        limit(request, scope="org_write", key=f"user:{request.user.pk}")
        if form.is_valid():
            user = access.request_user(request)
            try:
                if form.cleaned_data["action"] == "hide":
                    services.proposal_hide(
                        proposal=proposal, user=user, reason=form.cleaned_data["reason"]
                    )
                elif form.cleaned_data["action"] == "confirm":
                    services.proposal_hide_confirm(
                        proposal=proposal, user=user, reason=form.cleaned_data["reason"]
                    )
                else:
                    services.proposal_restore(
                        proposal=proposal, user=user, reason=form.cleaned_data["reason"]
                    )
            except services.AgendaError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, _("Done; the reason is public."))
                return redirect("agenda:staff_moderate", pk=proposal.pk)
    context: dict[str, Any] = {"proposal": proposal, "form": form}
    return render(
        request, "agenda/staff_moderate.html", context, status=400 if form.errors else 200
    )
