"""Views: check access, validate a form, call one service, respond."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from campaigns.access import campaign_for
from campaigns.models import Signature
from campaigns.signing import token_read
from foundation.forms_flow import form_flow
from foundation.ratelimit import limit
from members import access
from outbox.services import email_cancel, email_retry
from outreach import selectors, services
from outreach.forms import DeliveryForm, LetterCampaignForm, ReplyForm, SendLetterForm
from outreach.models import LetterCampaign, PetitionDelivery

# --- signers ------------------------------------------------------------------------------------


def _letter_version(letter_campaign: LetterCampaign) -> str:
    return f"{letter_campaign.pk}:{selectors.letter_campaign_fingerprint(letter_campaign)[:24]}"


@never_cache
def letter_send(request: HttpRequest, token: str) -> HttpResponse:
    """The signer reads who receives the letter and the exact text each gets, then sends it.

    Only the approved, open letter campaign of the signer's petition is ever shown or sent; the
    form names the version the signer read, and a different one is refused.
    """
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
        return render(request, "outreach/letter_send.html", {"no_letter": True}, status=404)
    version = _letter_version(letter_campaign)
    form = SendLetterForm(
        request.POST or None,
        max_length=letter_campaign.max_personal_length,
        initial={"letter": version},
    )
    personal_message: str | None = None  # None: not given yet, show where it would go
    if request.method == "POST":
        limit(request, scope="signer_link")
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        personal_message = data["personal_message"]
        if data.pop("letter") != version:
            form.add_error(
                None,
                _("The letter changed since you opened this page. Read it again before sending."),
            )
        elif "preview" not in request.POST:
            try:
                letters = services.letters_send(
                    letter_campaign=letter_campaign, signature=signature, **data
                )
            except services.OutreachError as exc:
                form.add_error(None, str(exc))
            else:
                return render(
                    request,
                    "outreach/letter_sent.html",
                    {"letters": letters, "signature": signature},
                )
    signer = services.signer_of(signature)
    targets = list(services.letter_targets(letter_campaign=letter_campaign, signature=signature))
    return render(
        request,
        "outreach/letter_send.html",
        {
            "form": form,
            "letter_campaign": letter_campaign,
            "letters": [
                services.letter_render(
                    letter_campaign=letter_campaign,
                    contact=contact,
                    signer=signer,
                    personal_message=_("[your own words, if you add any]")
                    if personal_message is None
                    else personal_message,
                )
                for contact in targets
            ],
            "targets": targets,
            "signature": signature,
            "preview": personal_message is not None,
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
    organization, campaign = campaign_for(request, org, slug, roles=access.EVERYONE)
    replies = list(selectors.campaign_replies(campaign=campaign))
    for reply in replies:
        # An emailed reply not yet published is read on its own page, behind two-factor.
        reply.reviewed = selectors.reply_is_reviewed(reply)  # type: ignore[attr-defined]
    return render(
        request,
        "outreach/campaign_outreach.html",
        {
            "organization": organization,
            "campaign": campaign,
            "stats": selectors.campaign_delivery_stats(campaign=campaign),
            "replies": replies,
            "deliveries": selectors.campaign_deliveries(campaign=campaign),
            "letter_campaigns": [
                (lc, services.letter_campaign_status(lc)) for lc in campaign.letters.all()
            ],
            "reply_form": ReplyForm(),
        },
    )


@login_required
def letter_campaign_create(request: HttpRequest, org: str, slug: str) -> HttpResponse:
    organization, campaign = campaign_for(
        request, org, slug, roles=access.EDITORS, signer_data=True
    )
    return form_flow(
        request,
        LetterCampaignForm(request.POST or None, campaign=campaign),
        save=lambda data: services.letter_campaign_create(
            campaign=campaign,
            organization=organization,
            user=access.request_user(request),
            **data,
        ),
        errors=(services.OutreachError,),
        success=_(
            "Letter campaign saved as a draft. Signers are led to it only after an admin of "
            "every co-sponsor has approved it."
        ),
        done=lambda _lc: redirect("outreach:campaign", org=organization.slug, slug=campaign.slug),
        template="outreach/letter_campaign_form.html",
        context={"organization": organization, "campaign": campaign},
    )


@login_required
@require_POST
def letter_campaign_action(
    request: HttpRequest, org: str, slug: str, pk: int, action: str
) -> HttpResponse:
    """A co-sponsor asks for a test letter (sample signer only), or for approval again."""
    organization, campaign = campaign_for(
        request, org, slug, roles=access.EDITORS, signer_data=True
    )
    letter_campaign = get_object_or_404(LetterCampaign, pk=pk, campaign=campaign)
    if action not in {"test", "propose"}:
        raise Http404
    limit(request, scope="org_write", key=f"user:{request.user.pk}")
    user = access.request_user(request)
    try:
        if action == "test":
            emails = services.letter_test_send(
                letter_campaign=letter_campaign,
                organization=organization,
                user=user,
                to=request.POST.get("to", ""),
            )
            messages.success(
                request,
                ngettext(
                    "%(n)d test letter, from a made-up sample signer, is on its way to %(to)s.",
                    "%(n)d test letters, from a made-up sample signer, are on their way to %(to)s.",
                    len(emails),
                )
                % {"n": len(emails), "to": emails[0].to},
            )
        else:
            services.letter_campaign_propose(
                letter_campaign=letter_campaign, organization=organization, user=user
            )
            messages.success(request, _("Every co-sponsor is asked to approve the letter."))
    except services.OutreachError as exc:
        messages.error(request, str(exc))
    return redirect("outreach:campaign", org=organization.slug, slug=campaign.slug)


@login_required
def reply_add(request: HttpRequest, org: str, slug: str) -> HttpResponse:
    organization, campaign = campaign_for(request, org, slug, roles=access.EDITORS)
    return form_flow(
        request,
        ReplyForm(request.POST or None),
        save=lambda data: services.reply_record(
            campaign_id=campaign.pk,
            organization=organization,
            user=access.request_user(request),
            **data,
        ),
        errors=(services.OutreachError,),
        success=_("Reply recorded."),
        done=lambda _r: redirect("outreach:campaign", org=organization.slug, slug=campaign.slug),
        template="outreach/reply_form.html",
        context={"organization": organization, "campaign": campaign},
    )


@login_required
@never_cache
def reply_review(request: HttpRequest, org: str, slug: str, pk: int) -> HttpResponse:
    """One reply, redacted, for members with two-factor; an editor or admin publishes it."""
    roles = access.EVERYONE if request.method == "GET" else access.EDITORS
    organization, campaign = campaign_for(request, org, slug, roles=roles, signer_data=True)
    can_publish = (
        access.request_user(request)
        .memberships.filter(organization=organization, role__in=access.EDITORS)
        .exists()
    )
    reply = get_object_or_404(
        selectors.campaign_replies(campaign=campaign).select_related("letter__email"), pk=pk
    )
    if request.method == "POST":
        limit(request, scope="org_write", key=f"user:{request.user.pk}")
        try:
            services.reply_publish(
                reply=reply, organization=organization, user=access.request_user(request)
            )
        except services.OutreachError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, _("The reply is published on the campaign page."))
        return redirect("outreach:campaign", org=organization.slug, slug=campaign.slug)
    return render(
        request,
        "outreach/reply_review.html",
        {
            "organization": organization,
            "campaign": campaign,
            "reply": reply,
            "text": selectors.reply_text(reply),
            "can_publish": can_publish,
        },
    )


@login_required
def delivery_create(request: HttpRequest, org: str, slug: str) -> HttpResponse:
    organization, campaign = campaign_for(
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
    organization, campaign = campaign_for(request, org, slug, roles=access.ADMIN, signer_data=True)
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
    organization, campaign = campaign_for(request, org, slug, roles=access.ADMIN, signer_data=True)
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
            "act": services.delivery_act(delivery),
        },
    )
