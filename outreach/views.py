"""Views: check access, validate a form, call one service, respond."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from campaigns.models import Campaign, CoSponsorship, Signature
from campaigns.signing import token_read
from coalition.forms_flow import form_flow
from coalition.ratelimit import limit
from members import access
from members.models import Organization
from outbox.services import email_cancel, email_retry
from outreach import selectors, services
from outreach.forms import DeliveryForm, LetterCampaignForm, ReplyForm, SendLetterForm
from outreach.models import PetitionDelivery


def _cosponsored(
    request: HttpRequest, org: str, slug: str, *, roles: set[str], signer_data: bool = False
) -> tuple[Organization, Campaign]:
    """The acting organization and a campaign it co-sponsors (accepted).

    ``signer_data``: the route decides what signers' personal data goes where (letters carry
    their names, cities and own words; deliveries can carry names): two-factor for every role.
    """
    organization, _membership = access.organization_for(
        request, org, roles=roles, signer_data=signer_data
    )
    campaign = get_object_or_404(
        Campaign,
        slug=slug,
        cosponsorships__organization=organization,
        cosponsorships__status=CoSponsorship.Status.ACCEPTED,
    )
    return organization, campaign


# --- signers ------------------------------------------------------------------------------------


@never_cache
def letter_send(request: HttpRequest, token: str) -> HttpResponse:
    signature_id = token_read(token, "letter", None)
    signature = (
        Signature.objects.select_related("petition__campaign").filter(pk=signature_id).first()
        if signature_id
        else None
    )
    if signature is None:
        return render(request, "outreach/letter_send.html", {"invalid": True}, status=400)
    letter_campaign = selectors.letter_campaign_for_signature(signature=signature)
    if letter_campaign is None:
        raise Http404
    form = SendLetterForm(request.POST or None, max_length=letter_campaign.max_personal_length)
    if request.method == "POST":
        limit(request, scope="signer_link")
    if request.method == "POST" and form.is_valid():
        try:
            letters = services.letters_send(
                letter_campaign=letter_campaign, signature=signature, **form.cleaned_data
            )
        except services.OutreachError as exc:
            form.add_error(None, str(exc))
        else:
            return render(
                request, "outreach/letter_sent.html", {"letters": letters, "signature": signature}
            )
    return render(
        request,
        "outreach/letter_send.html",
        {
            "form": form,
            "letter_campaign": letter_campaign,
            "targets": services.letter_targets(
                letter_campaign=letter_campaign, signature=signature
            ),
            "signature": signature,
            "open": services.letter_campaign_open(letter_campaign),
        },
        status=400 if form.errors else 200,
    )


@never_cache
def survey(request: HttpRequest, token: str, answer: str) -> HttpResponse:
    letter_id = token_read(token, "survey", None)
    if letter_id is None or answer not in {"yes", "no", "not_yet"}:
        return render(request, "outreach/survey.html", {"invalid": True}, status=400)
    if request.method == "POST":
        limit(request, scope="signer_link")
        services.survey_answer(letter_id=letter_id, answer=answer)
        return render(request, "outreach/survey.html", {"done": True})
    return render(request, "outreach/survey.html", {"answer": answer})


# --- co-sponsors --------------------------------------------------------------------------------


@login_required
def campaign_outreach(request: HttpRequest, org: str, slug: str) -> HttpResponse:
    organization, campaign = _cosponsored(request, org, slug, roles=access.EVERYONE)
    return render(
        request,
        "outreach/campaign_outreach.html",
        {
            "organization": organization,
            "campaign": campaign,
            "stats": selectors.campaign_delivery_stats(campaign=campaign),
            "replies": selectors.campaign_replies(campaign=campaign),
            "deliveries": selectors.campaign_deliveries(campaign=campaign),
            "letter_campaigns": campaign.letters.all(),
            "reply_form": ReplyForm(),
        },
    )


@login_required
def letter_campaign_create(request: HttpRequest, org: str, slug: str) -> HttpResponse:
    organization, campaign = _cosponsored(
        request, org, slug, roles=access.EDITORS, signer_data=True
    )
    form = LetterCampaignForm(request.POST or None, campaign=campaign)
    if request.method == "POST":
        limit(request, scope="org_write", key=f"user:{request.user.pk}")
    if request.method == "POST" and form.is_valid():
        letter_campaign = form.save(commit=False)
        letter_campaign.campaign = campaign
        letter_campaign.save()
        form.save_m2m()
        messages.success(request, _("Letter campaign saved."))
        return redirect("outreach:campaign", org=organization.slug, slug=campaign.slug)
    return render(
        request,
        "outreach/letter_campaign_form.html",
        {"form": form, "organization": organization, "campaign": campaign},
        status=400 if form.errors else 200,
    )


@login_required
def reply_add(request: HttpRequest, org: str, slug: str) -> HttpResponse:
    organization, campaign = _cosponsored(request, org, slug, roles=access.EDITORS)
    return form_flow(
        request,
        ReplyForm(request.POST or None),
        save=lambda data: services.reply_record(
            campaign_id=campaign.pk, organization=organization, **data
        ),
        errors=(services.OutreachError,),
        success=_("Reply recorded."),
        done=lambda _r: redirect("outreach:campaign", org=organization.slug, slug=campaign.slug),
        template="outreach/reply_form.html",
        context={"organization": organization, "campaign": campaign},
    )


@login_required
def delivery_create(request: HttpRequest, org: str, slug: str) -> HttpResponse:
    organization, campaign = _cosponsored(
        request, org, slug, roles=access.EDITORS, signer_data=True
    )
    return form_flow(
        request,
        DeliveryForm(request.POST or None, campaign=campaign),
        save=lambda data: services.delivery_prepare(
            petition=data["petition"],
            targets=list(data["targets"]),
            milestone=data["milestone"],
            scheduled_for=data["scheduled_for"],
            include_names=data["include_names"],
        ),
        errors=(services.OutreachError,),
        success=_("Delivery prepared. It goes out once every co-sponsor approves it."),
        done=lambda _d: redirect("outreach:campaign", org=organization.slug, slug=campaign.slug),
        template="outreach/delivery_form.html",
        context={"organization": organization, "campaign": campaign},
    )


@login_required
@require_POST
def email_action(request: HttpRequest, org: str, slug: str, pk: int, action: str) -> HttpResponse:
    """A co-sponsor admin retries a failed message of this campaign, or cancels a queued one."""
    organization, campaign = _cosponsored(
        request, org, slug, roles=access.ADMIN, signer_data=True
    )
    limit(request, scope="org_write", key=f"user:{request.user.pk}")
    email = get_object_or_404(selectors.campaign_emails(campaign=campaign), pk=pk)
    if action == "retry":
        email_retry(email=email)
        messages.success(request, _("The message is queued again."))
    elif action == "cancel":
        email_cancel(email=email)
        messages.success(request, _("The message is cancelled if it had not left yet."))
    else:
        raise Http404
    return redirect("outreach:campaign", org=organization.slug, slug=campaign.slug)


@login_required
def delivery_approve(request: HttpRequest, org: str, slug: str, pk: int) -> HttpResponse:
    organization, campaign = _cosponsored(
        request, org, slug, roles=access.ADMIN, signer_data=True
    )
    delivery = get_object_or_404(PetitionDelivery, pk=pk, petition__campaign=campaign)
    if request.method == "POST":
        limit(request, scope="org_write", key=f"user:{request.user.pk}")
    if request.method == "POST":
        try:
            services.delivery_approve(
                delivery=delivery, organization=organization, user=access.request_user(request)
            )
            services.delivery_send_if_ready(delivery=delivery)
        except services.OutreachError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, _("Approved on behalf of %(name)s.") % {"name": organization})
        return redirect("outreach:campaign", org=organization.slug, slug=campaign.slug)
    return render(
        request,
        "outreach/delivery_preview.html",
        {
            "organization": organization,
            "campaign": campaign,
            "delivery": delivery,
            **services.delivery_preview(delivery=delivery),
        },
    )
