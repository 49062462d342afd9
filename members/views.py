"""Views: check access, validate a form, call one service, respond."""

from __future__ import annotations

from allauth.mfa.totp.views import ActivateTOTPView
from allauth.mfa.utils import is_mfa_enabled
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from foundation.ratelimit import limit
from members import access, selectors, services
from members.forms import (
    DecisionProposalForm,
    ExportKeyForm,
    InvitationForm,
    OrganizationApplicationForm,
    RoleForm,
    VoteForm,
)
from members.middleware import MFA_SETUP_NEXT
from members.models import Decision, Invitation, Membership, Organization, User


def _organization_for_admin(request: HttpRequest, slug: str) -> Organization:
    return access.organization_for(request, slug, roles=access.ADMIN)[0]


def _current_user(request: HttpRequest) -> User:
    return access.request_user(request)


def directory(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "members/directory.html",
        {"organizations": selectors.organizations_members()},
    )


def organization_detail(request: HttpRequest, slug: str) -> HttpResponse:
    organization = selectors.organization_for_viewer(slug=slug, user=request.user)
    if organization is None:
        raise Http404
    return render(
        request,
        "members/organization_detail.html",
        {
            "organization": organization,
            "admission": selectors.organization_admission(organization=organization),
            "votes": selectors.organizations_voting_record(organization=organization)[:50],
        },
    )


@login_required
def organization_apply(request: HttpRequest) -> HttpResponse:
    user = _current_user(request)
    form = OrganizationApplicationForm(request.POST or None)
    if request.method == "POST":
        limit(request, scope="org_apply", key=f"user:{user.pk}")
        if form.is_valid():
            try:
                organization = services.organization_apply(user=user, **form.cleaned_data)
            except services.MembershipError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(
                    request,
                    _(
                        "Application received. Platform staff check it first; then the member "
                        "organizations decide on it. You are its first admin."
                    ),
                )
                return redirect(organization)
    return render(
        request,
        "members/organization_apply.html",
        {"form": form, "in_progress": selectors.application_in_progress(user=user)},
    )


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    user = _current_user(request)
    return render(
        request,
        "members/dashboard.html",
        {
            "memberships": selectors.memberships_of(user=user),
            "awaiting_vote": selectors.decisions_awaiting_vote(user=user),
            "mfa_enabled": is_mfa_enabled(user),
        },
    )


@login_required
def team(request: HttpRequest, slug: str) -> HttpResponse:
    organization = _organization_for_admin(request, slug)
    form = InvitationForm(request.POST or None)
    if request.method == "POST":
        limit(request, scope="org_invite", key=f"org:{organization.pk}")
        if form.is_valid():
            try:
                services.invitation_create(
                    organization=organization,
                    invited_by=_current_user(request),
                    **form.cleaned_data,
                )
            except services.MembershipError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(
                    request,
                    _("Invitation sent to %(email)s.") % {"email": form.cleaned_data["email"]},
                )
                return redirect("members:team", slug=organization.slug)
    return render(
        request,
        "members/team.html",
        {
            "organization": organization,
            "team": selectors.organization_team(organization=organization),
            "invitations": selectors.organization_invitations_pending(organization=organization),
            "form": form,
            "role_choices": Membership.Role.choices,
            "key_form": ExportKeyForm(initial={"public_key": organization.export_public_key}),
        },
    )


@login_required
@require_POST
def export_key(request: HttpRequest, slug: str) -> HttpResponse:
    organization = _organization_for_admin(request, slug)
    limit(request, scope="org_write", key=f"user:{request.user.pk}")
    form = ExportKeyForm(request.POST)
    if form.is_valid():
        try:
            services.organization_export_key_set(
                organization=organization, public_key=form.cleaned_data["public_key"]
            )
        except services.MembershipError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, _("Export key saved."))
    else:
        messages.error(request, _("Enter the public key as base64 text."))
    return redirect("members:team", slug=organization.slug)


@login_required
@require_POST
def membership_role(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    limit(request, scope="org_write", key=f"user:{request.user.pk}")
    organization = _organization_for_admin(request, slug)
    membership = get_object_or_404(Membership, pk=pk, organization=organization)
    form = RoleForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose a valid role."))
    else:
        try:
            services.membership_change_role(membership=membership, role=form.cleaned_data["role"])
        except services.MembershipError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, _("Role changed."))
    return redirect("members:team", slug=organization.slug)


@login_required
@require_POST
def membership_remove(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    limit(request, scope="org_write", key=f"user:{request.user.pk}")
    organization = get_object_or_404(Organization, slug=slug)
    membership = get_object_or_404(Membership, pk=pk, organization=organization)
    leaving = membership.user_id == request.user.pk
    if not leaving:
        _organization_for_admin(request, slug)
    back = redirect("members:dashboard") if leaving else redirect("members:team", slug=slug)
    try:
        services.membership_remove(membership=membership)
    except services.MembershipError as exc:
        messages.error(request, str(exc))
        return back
    if leaving:
        messages.success(request, _("You have left %(name)s.") % {"name": organization.name})
    else:
        messages.success(request, _("Removed from the organization."))
    return back


@login_required
@require_POST
def invitation_revoke(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    limit(request, scope="org_write", key=f"user:{request.user.pk}")
    organization = _organization_for_admin(request, slug)
    invitation = get_object_or_404(Invitation, pk=pk, organization=organization)
    services.invitation_revoke(invitation=invitation)
    messages.success(request, _("Invitation withdrawn."))
    return redirect("members:team", slug=organization.slug)


def invitation(request: HttpRequest, token: str) -> HttpResponse:
    found = services.invitation_by_token(token=token)
    if request.method == "POST":
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        limit(request, scope="org_write", key=f"user:{request.user.pk}")
        try:
            membership = services.invitation_accept(token=token, user=_current_user(request))
        except services.MembershipError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(
                request,
                _("You joined %(name)s as %(role)s.")
                % {"name": membership.organization.name, "role": membership.get_role_display()},
            )
            return redirect("members:dashboard")
    return render(
        request,
        "members/invitation.html",
        {"invitation": found if found is not None and found.is_pending else None},
    )


def decision_list(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status", "")
    kind = request.GET.get("kind", "")
    decisions = selectors.decisions_ledger(
        status=status if status in Decision.Status.values else None,
        kind=kind if kind in Decision.Kind.values else None,
    )
    page = Paginator(decisions, 25).get_page(request.GET.get("page"))
    return render(
        request,
        "members/decision_list.html",
        {
            "page": page,
            "status": status,
            "kind": kind,
            "statuses": Decision.Status.choices,
            "kinds": Decision.Kind.choices,
        },
    )


def decision_detail(request: HttpRequest, pk: int) -> HttpResponse:
    decision = get_object_or_404(
        Decision.objects.select_related("organization", "proposed_by"), pk=pk
    )
    votes = selectors.decision_votes(decision=decision)
    voting_as: list[Organization] = []
    if request.user.is_authenticated and decision.is_open:
        electorate = selectors.decision_electorate(decision=decision)
        voting_as = list(
            electorate.filter(
                memberships__user=request.user, memberships__role=Membership.Role.ADMIN
            )
        )
    form = VoteForm()
    if request.method == "POST":
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        limit(request, scope="vote", key=f"user:{request.user.pk}")
        organization = get_object_or_404(Organization, slug=request.POST.get("organization", ""))
        _organization_for_admin(request, organization.slug)
        form = VoteForm(request.POST)
        if form.is_valid():
            try:
                services.vote_cast(
                    decision=decision,
                    organization=organization,
                    user=_current_user(request),
                    **form.cleaned_data,
                )
            except services.MembershipError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(
                    request,
                    _("%(name)s's vote is recorded. You can change it until the deadline.")
                    % {"name": organization.name},
                )
                return redirect(decision)
    own_votes = {vote.organization_id: vote for vote in votes if vote.organization in voting_as}
    return render(
        request,
        "members/decision_detail.html",
        {
            "decision": decision,
            "votes": votes,
            "voting_as": [(org, own_votes.get(org.pk)) for org in voting_as],
            "form": form,
            "tally": services.decision_tally(decision=decision) if decision.is_open else None,
        },
        status=400 if form.errors else 200,
    )


@login_required
def decision_propose(request: HttpRequest, slug: str) -> HttpResponse:
    organization = _organization_for_admin(request, slug)
    form = DecisionProposalForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        limit(request, scope="vote", key=f"user:{request.user.pk}")
        try:
            decision = services.decision_propose(
                proposed_by=organization, user=_current_user(request), **form.cleaned_data
            )
        except services.MembershipError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("The proposal is open for the coalition's votes."))
            return redirect(decision)
    return render(
        request, "members/decision_propose.html", {"form": form, "organization": organization}
    )


class TotpActivateView(ActivateTOTPView):
    """allauth's authenticator set-up, which then takes the person back to the page that sent
    them here (members.middleware stores it) instead of to the recovery codes; where those are
    is said in a message. Opened directly, it ends on the recovery codes as allauth's does."""

    def get_success_url(self) -> str:
        target = self.request.session.pop(MFA_SETUP_NEXT, "")
        if target and url_has_allowed_host_and_scheme(
            target, allowed_hosts={self.request.get_host()}, require_https=self.request.is_secure()
        ):
            messages.success(
                self.request,
                _(
                    "Two-factor sign-in is on. If you lose your phone, your recovery codes let "
                    "you in: see and save them under Account, Two-factor sign-in."
                ),
            )
            return target
        return super().get_success_url()
