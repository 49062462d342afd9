"""Views: check access, validate a form, call one service, respond.

Drafting, previewing and proposing updates send mail to signers in the end, so these routes
are ``signer_data`` routes: every role on them has two-factor sign-in (members/access.py).
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from campaigns.access import campaign_for
from campaigns.models import Campaign, OutcomeEvent
from foundation.forms_flow import form_flow
from foundation.ratelimit import limit
from members import access
from members.models import Organization
from updates import services
from updates.forms import UpdateForm
from updates.models import CampaignUpdate


def _campaign_for(
    request: HttpRequest, org: str, slug: str, *, roles: set[str]
) -> tuple[Organization, Campaign]:
    # Updates go to signers' addresses: two-factor for every role; accepted co-sponsors only.
    return campaign_for(request, org, slug, roles=roles, signer_data=True)


def _done(organization: Organization, campaign: Campaign) -> HttpResponse:
    return redirect("updates:list", org=organization.slug, slug=campaign.slug)


@login_required
def update_list(request: HttpRequest, org: str, slug: str) -> HttpResponse:
    organization, campaign = _campaign_for(request, org, slug, roles=access.EDITORS)
    return render(
        request,
        "updates/update_list.html",
        {
            "organization": organization,
            "campaign": campaign,
            "updates": campaign.updates.select_related("drafted_by", "act"),
            "outcomes": campaign.events.all()[:20],
            "rule": settings.UPDATES_APPROVAL_RULE,
            "objection_hours": int(settings.JOINT_ACT_OBJECTION_PERIOD.total_seconds() // 3600),
        },
    )


@login_required
def update_create(request: HttpRequest, org: str, slug: str) -> HttpResponse:
    organization, campaign = _campaign_for(request, org, slug, roles=access.EDITORS)
    return form_flow(
        request,
        UpdateForm(request.POST or None),
        save=lambda data: services.update_draft(
            campaign=campaign, organization=organization, user=access.request_user(request), **data
        ),
        errors=(services.UpdateError,),
        success=_("Draft saved. Preview it, then propose it to the co-sponsors."),
        done=lambda update: redirect(
            "updates:preview", org=organization.slug, slug=campaign.slug, pk=update.pk
        ),
        template="updates/update_form.html",
        context={"organization": organization, "campaign": campaign},
    )


@login_required
def update_edit(request: HttpRequest, org: str, slug: str, pk: int) -> HttpResponse:
    organization, campaign = _campaign_for(request, org, slug, roles=access.EDITORS)
    update = get_object_or_404(CampaignUpdate, pk=pk, campaign=campaign)
    return form_flow(
        request,
        UpdateForm(request.POST or None, instance=CampaignUpdate(**update.content())),
        save=lambda data: services.update_edit(
            update=update, organization=organization, user=access.request_user(request), **data
        ),
        errors=(services.UpdateError,),
        success=_("Draft saved."),
        done=lambda update: redirect(
            "updates:preview", org=organization.slug, slug=campaign.slug, pk=update.pk
        ),
        template="updates/update_form.html",
        context={"organization": organization, "campaign": campaign, "update": update},
    )


@login_required
@require_safe
def update_preview(request: HttpRequest, org: str, slug: str, pk: int) -> HttpResponse:
    """The update exactly as a signer gets it, in each language it is written in."""
    organization, campaign = _campaign_for(request, org, slug, roles=access.EDITORS)
    update = get_object_or_404(CampaignUpdate, pk=pk, campaign=campaign)
    sample_link = settings.SITE_URL + "/u/…"
    previews = []
    for code, name in settings.LANGUAGES:
        if getattr(update, f"subject_{code}"):
            subject, text, _html = services.update_render(
                update=update, language=code, unsubscribe=sample_link
            )
            previews.append(
                {
                    "code": code,
                    "name": name,
                    "subject": subject,
                    "text": text,
                    # The HTML part's text, sanitized by the same filter the mail uses.
                    "body": getattr(update, f"body_{code}"),
                }
            )
    return render(
        request,
        "updates/update_preview.html",
        {
            "organization": organization,
            "campaign": campaign,
            "update": update,
            "previews": previews,
            "rule": settings.UPDATES_APPROVAL_RULE,
        },
    )


@login_required
@require_POST
def update_propose(request: HttpRequest, org: str, slug: str, pk: int) -> HttpResponse:
    organization, campaign = _campaign_for(request, org, slug, roles=access.EDITORS)
    update = get_object_or_404(CampaignUpdate, pk=pk, campaign=campaign)
    limit(request, scope="org_write", key=f"user:{request.user.pk}")
    try:
        services.update_propose(
            update=update, organization=organization, user=access.request_user(request)
        )
    except services.UpdateError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request, _("Proposed. It is sent when the co-sponsors agree, as the rule says.")
        )
    return _done(organization, campaign)


@login_required
@require_POST
def update_from_outcome(request: HttpRequest, org: str, slug: str, event: int) -> HttpResponse:
    organization, campaign = _campaign_for(request, org, slug, roles=access.EDITORS)
    outcome = get_object_or_404(OutcomeEvent, pk=event, campaign=campaign)
    limit(request, scope="org_write", key=f"user:{request.user.pk}")
    try:
        update = services.update_from_outcome(
            event=outcome, organization=organization, user=access.request_user(request)
        )
    except services.UpdateError as exc:
        messages.error(request, str(exc))
        return _done(organization, campaign)
    messages.success(request, _("A draft is ready: check it, then propose it."))
    return redirect("updates:edit", org=organization.slug, slug=campaign.slug, pk=update.pk)
