"""Views: check access, validate a form, call one service, respond."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from functools import partial
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.forms.models import model_to_dict
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    StreamingHttpResponse,
)
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.csp import csp_override
from django.views.decorators.http import require_POST

from campaigns import joint, og_image, page_cache, pow, selectors, services, sharing
from campaigns.access import campaign_for
from campaigns.forms import (
    CampaignForm,
    CloseCampaignForm,
    InviteCosponsorForm,
    JointActAnswerForm,
    OutcomeForm,
    PetitionForm,
    SignatureForm,
    SignatureReviewForm,
)
from campaigns.limits import sign_ip_limit, sign_limits
from campaigns.models import (
    Campaign,
    JointAct,
    JointActAnswer,
    Petition,
    Signature,
)
from campaigns.services import security
from foundation import uploads
from foundation.csvsafe import csv_column, csv_text
from foundation.forms_flow import form_flow
from foundation.nojs import nojs_token_issue
from foundation.ratelimit import limit
from foundation.sealed import HEADER as SEALED_HEADER
from foundation.sealed import seal_line, sealer
from members import access
from members.models import Organization

# --- access -----------------------------------------------------------------------------------


# --- public pages -----------------------------------------------------------------------------


def campaign_list(request: HttpRequest) -> HttpResponse:
    filters = {
        "issue_area": request.GET.get("issue_area", ""),
        "status": request.GET.get("status", ""),
        "language": request.GET.get("language", ""),
    }
    return render(
        request,
        "campaigns/campaign_list.html",
        {
            "campaigns": selectors.campaigns_public(**filters)[:100],
            "issue_areas": selectors.issue_areas(),
            "statuses": [(s.value, s.label) for s in selectors.PUBLIC_STATUSES],
            "filters": filters,
        },
    )


def outcome_evidence(request: HttpRequest, pk: int) -> HttpResponseBase:
    """Evidence files are downloaded, never shown by the browser: they come from any co-sponsor's
    editor, and even a checked PDF is not something to render on our origin."""
    event = selectors.outcome_evidence_public(pk=pk)
    if event is None:
        raise Http404
    extension = uploads.stored_extension(event.evidence_file.name or "")
    try:
        handle = event.evidence_file.open("rb")
    except OSError:  # the row outlived its file (a restore without the media volume)
        raise Http404 from None
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=f"evidence-{event.pk}{extension}",
        content_type=uploads.CONTENT_TYPES.get(extension, "application/octet-stream"),
    )
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


def campaign_detail(request: HttpRequest, slug: str) -> HttpResponse:
    page = page_cache.PublicPage(request, kind="campaign", slug=slug)
    if (cached := page.hit()) is not None:
        return cached
    campaign = selectors.campaign_public(slug=slug)
    if campaign is None:
        raise Http404
    template = "campaigns/campaign_detail.html"
    context = {
        "campaign": campaign,
        "cosponsors": selectors.campaign_cosponsors(campaign=campaign),
        "petitions": campaign.petitions.all(),
    }
    if page.cacheable:
        return page.render(template, context)
    return render(request, template, context)


def campaign_history(request: HttpRequest, slug: str) -> HttpResponse:
    campaign = selectors.campaign_public(slug=slug)
    if campaign is None:
        raise Http404
    return render(
        request,
        "campaigns/campaign_history.html",
        {
            "campaign": campaign,
            "revisions": selectors.campaign_revisions(campaign=campaign),
            "acts": joint.joint_acts_of(campaign=campaign),
        },
    )


def _sign(
    request: HttpRequest,
    petition: Petition,
    template: str,
    extra: dict,
    page: page_cache.PublicPage,
    cosponsors: list[Organization] | None = None,
) -> HttpResponse:
    if cosponsors is None:
        cosponsors = list(selectors.campaign_cosponsors(campaign=petition.campaign))
    form = SignatureForm(
        request.POST or None,
        cosponsors=cosponsors,
        high_security=petition.campaign.high_security,
        nojs_object=petition.slug,  # a token of this petition's page is good for it alone
    )
    source_slug = request.POST.get("source") or request.GET.get("source", "")
    cosponsor_slugs = {o.slug for o in cosponsors}
    if request.method != "POST":
        # Only a co-sponsor's slug is a source (the sign service ignores any other): the page
        # never repeats what a visitor typed, and has one variant per co-sponsor at most.
        source_slug = sharing.valid_source(source_slug, cosponsor_slugs)
    if request.method == "POST":
        if not petition.is_open:
            form.add_error(None, _("This petition is closed."))
        else:
            sign_ip_limit(request)
            if form.is_valid():
                done = reverse("campaigns:sign_sent", args=[petition.slug])
                if form.is_bot:
                    return redirect(done)  # look like success; write nothing
                # Without a solved proof of work (JavaScript off), the aged form token is the
                # price (foundation/nojs.py); a failed one puts the form back with the reason.
                if form.pow_verified or form.nojs_token_check():
                    sign_limits(
                        request,
                        email=form.cleaned_data["email"],
                        pow_verified=form.pow_verified,
                        petition_slug=petition.slug,
                    )
                    try:
                        services.signature_create(
                            petition=petition, **form.signature_data(source_slug=source_slug)
                        )
                    except services.CampaignError as exc:
                        form.add_error(None, str(exc))
                    else:
                        return redirect(done + ("?embed=1" if extra.get("embed") else ""))
    context = {
        "petition": petition,
        "campaign": petition.campaign,
        "form": form,
        "source": source_slug,
        "cosponsors": cosponsors,  # also for the link-preview card and the share links
        # Lazy: the stats fragment is cached, and these are read only when it is rendered.
        "countries": selectors.petition_countries(petition=petition)[:20],
        "recent": partial(selectors.petition_recent_signers, petition=petition),
        "pow_challenge": pow.challenge_json() if petition.is_open else "",
        "nojs_token": nojs_token_issue(purpose=SignatureForm.nojs_purpose, obj=petition.slug),
        **extra,
    }
    if page.cacheable and not form.is_bound:
        return page.render(
            template,
            context,
            source=source_slug,
            sources=cosponsor_slugs,
            expires_at=petition.deadline,
        )
    return render(request, template, context, status=400 if form.errors else 200)


def _petition_to_sign(
    request: HttpRequest, slug: str
) -> tuple[Petition, list[Organization] | None]:
    """A sign POST takes the petition and co-sponsors from the per-process copy (issue 11; the
    sign service re-checks in its transaction that the petition is open); a page reads them."""
    if request.method == "POST":
        found = selectors.petition_for_sign(slug=slug)
        if found is None:
            raise Http404
        return found[0], found[1]
    petition = selectors.petition_public(slug=slug)
    if petition is None:
        raise Http404
    return petition, None


def petition_detail(request: HttpRequest, slug: str) -> HttpResponse:
    page = page_cache.PublicPage(request, kind="petition", slug=slug)
    if (cached := page.hit(source=request.GET.get("source", ""))) is not None:
        return cached
    petition, cosponsors = _petition_to_sign(request, slug)
    sharing.share_visit_record(request, petition=petition)
    return _sign(request, petition, "campaigns/petition_detail.html", {}, page, cosponsors)


def link_preview_image(
    request: HttpRequest, kind: str, slug: str, lang: str, digest: str
) -> HttpResponse:
    """The og:image of a public campaign or petition. The URL names one drawing (its digest), so
    the answer may be cached for a year; an outdated digest is sent on to the current image."""
    if kind not in og_image.KINDS or lang not in sharing.language_codes():
        raise Http404
    obj: Campaign | Petition | None = (
        selectors.campaign_public(slug=slug)
        if kind == "campaign"
        else selectors.petition_public(slug=slug)
    )
    if obj is None:
        raise Http404
    card = og_image.card_for(obj, language=lang)
    if card.digest != digest:
        response: HttpResponse = redirect(og_image.image_path(obj, card))
        response["Cache-Control"] = "public, max-age=300"
        return response
    response = HttpResponse(og_image.png_for(card), content_type="image/png")
    response["Cache-Control"] = "public, max-age=31536000, immutable"
    return response


# The widget is framed by co-sponsors' own sites, so these pages may be embedded anywhere.
_EMBEDDABLE_CSP: dict[str, Any] = {**settings.SECURE_CSP, "frame-ancestors": ["*"]}


@xframe_options_exempt
@csp_override(_EMBEDDABLE_CSP)
def petition_embed(request: HttpRequest, slug: str) -> HttpResponse:
    page = page_cache.PublicPage(request, kind="embed", slug=slug)
    if (cached := page.hit(source=request.GET.get("source", ""))) is not None:
        return cached
    petition, cosponsors = _petition_to_sign(request, slug)
    return _sign(
        request, petition, "campaigns/petition_embed.html", {"embed": True}, page, cosponsors
    )


@xframe_options_exempt
@csp_override(_EMBEDDABLE_CSP)
def sign_sent(request: HttpRequest, slug: str) -> HttpResponse:
    petition = selectors.petition_public(slug=slug)
    if petition is None:
        raise Http404
    return render(
        request,
        "campaigns/sign_sent.html",
        {"petition": petition, "embed": request.GET.get("embed") == "1"},
    )


def _signer_action(request: HttpRequest, token: str, action: str, template: str) -> HttpResponse:
    """GET shows a button, POST acts: mail scanners that follow links must not confirm."""
    if request.method == "POST":
        limit(request, scope="signer_link")
        try:
            if action == "not_me":
                services.signature_not_me(token=token)
            else:
                services.signature_withdraw(token=token)
        except services.CampaignError as exc:
            return render(request, template, {"error": str(exc)}, status=400)
        return render(request, template, {"done": True})
    return render(request, template, {})


@never_cache
def signature_confirm(request: HttpRequest, token: str) -> HttpResponse:
    """GET shows what is being confirmed (petition, name as shown, each consent) with a form to
    take any of it back; POST confirms. Mail scanners that follow links must not confirm."""
    template = "campaigns/signature_confirm.html"
    review = selectors.signature_review_by_token(token=token)
    reviewed = request.method == "POST" and "review" in request.POST
    form = None
    if review is not None and not review.confirmed:
        form = SignatureReviewForm(request.POST if reviewed else None, review=review)
    if request.method != "POST":
        error = None if review is not None else _("This link is not valid or has expired.")
        return render(request, template, {"review": review, "form": form, "error": error})
    limit(request, scope="signer_link")
    changes: dict[str, Any] = {}
    if form is not None and reviewed:
        if not form.is_valid():
            return render(request, template, {"review": review, "form": form}, status=400)
        changes = form.changes()
    try:
        signature = services.signature_confirm(token=token, **changes)
    except services.CampaignError as exc:
        return render(request, template, {"error": str(exc)}, status=400)
    messages.success(request, _("Thank you! Your signature is confirmed."))
    return redirect(services.after_confirm_url(signature) or _petition_after_confirm(signature))


def _petition_after_confirm(signature: Signature) -> str:
    """The petition page with its share links; they carry the co-sponsor whose link brought the
    signer (its slug, the same for all who came through it), never anything of the signer's."""
    url = signature.petition.get_absolute_url()
    if signature.source is not None:
        url += "?" + urlencode({"source": signature.source.slug})
    return url


@never_cache
def signature_not_me(request: HttpRequest, token: str) -> HttpResponse:
    return _signer_action(request, token, "not_me", "campaigns/signature_not_me.html")


@never_cache
def signature_withdraw(request: HttpRequest, token: str) -> HttpResponse:
    return _signer_action(request, token, "withdraw", "campaigns/signature_withdraw.html")


# --- co-sponsors' workspace -------------------------------------------------------------------


@login_required
def dashboard(request: HttpRequest, org: str) -> HttpResponse:
    organization, membership = access.organization_for(request, org, roles=access.EVERYONE)
    return render(
        request,
        "campaigns/dashboard.html",
        {
            "organization": organization,
            "membership": membership,
            "cosponsorships": selectors.organization_campaigns(organization=organization),
            "site_url": settings.SITE_URL,
        },
    )


@login_required
def campaign_create(request: HttpRequest, org: str) -> HttpResponse:
    organization, _m = access.organization_for(request, org, roles=access.EDITORS)
    return form_flow(
        request,
        CampaignForm(request.POST or None, request.FILES or None),
        save=lambda data: services.campaign_create(
            organization=organization, user=access.request_user(request), **data
        ),
        errors=(services.CampaignError,),
        success=_("Campaign created. Invite co-sponsors next."),
        done=lambda campaign: redirect(
            "campaigns:manage", org=organization.slug, slug=campaign.slug
        ),
        template="campaigns/campaign_form.html",
        context={"organization": organization},
        scope="campaign_edit",
    )


@login_required
def campaign_manage(request: HttpRequest, org: str, slug: str) -> HttpResponse:
    organization, campaign = campaign_for(request, org, slug, roles=access.EVERYONE, invited=True)
    own = campaign.cosponsorships.get(organization=organization)
    return render(
        request,
        "campaigns/campaign_manage.html",
        {
            "organization": organization,
            "campaign": campaign,
            "own": own,
            "cosponsorships": selectors.campaign_cosponsorships(campaign=campaign),
            "invite_form": InviteCosponsorForm(
                candidates=selectors.organizations_to_invite(campaign=campaign)
            ),
            "petitions": campaign.petitions.all(),
            "exports": selectors.campaign_exports(campaign=campaign)[:50],
            "revisions": selectors.campaign_revisions(campaign=campaign)[:10],
            "pending_acts": joint.joint_acts_pending(campaign=campaign),
            "answer_form": JointActAnswerForm(),
            "objection_hours": int(settings.JOINT_ACT_OBJECTION_PERIOD.total_seconds() // 3600),
            "min_cosponsors": settings.CAMPAIGN_MIN_COSPONSORS,
            "high_security_days": settings.HIGH_SECURITY_RETENTION_AFTER_CLOSE.days,
            "site_url": settings.SITE_URL,
        },
    )


@login_required
def campaign_edit(request: HttpRequest, org: str, slug: str) -> HttpResponse:
    organization, campaign = campaign_for(request, org, slug, roles=access.EDITORS)
    # The form's own field list; the image is not an initial value (only a new upload changes it).
    initial = model_to_dict(campaign, fields=CampaignForm.Meta.fields, exclude=["image"])
    return form_flow(
        request,
        CampaignForm(request.POST or None, request.FILES or None, initial=initial),
        save=lambda data: services.campaign_update(
            campaign=campaign, organization=organization, user=access.request_user(request), **data
        ),
        errors=(services.CampaignError,),
        success=_("Saved. The change is listed in the public history."),
        done=lambda _c: redirect("campaigns:manage", org=organization.slug, slug=campaign.slug),
        template="campaigns/campaign_form.html",
        context={"organization": organization, "campaign": campaign},
        scope="campaign_edit",
    )


@login_required
@require_POST
def campaign_action(request: HttpRequest, org: str, slug: str, action: str) -> HttpResponse:
    """The small one-button actions of the workspace, each a single service call."""
    roles = (
        access.ADMIN
        if action in {"accept", "decline", "withdraw", "endorse", "high_security_on"}
        else access.EDITORS
    )
    # Only accepting or declining is open to an organization that is only invited.
    # Switching high security on cannot be undone and removes signers' names and cities: a
    # decision about signers' data, so two-factor and a member organization (signer_data).
    organization, campaign = campaign_for(
        request,
        org,
        slug,
        roles=roles,
        invited=action in {"accept", "decline"},
        signer_data=action == "high_security_on",
    )
    limit(request, scope="org_write", key=f"user:{request.user.pk}")
    user = access.request_user(request)
    try:
        if action == "invite":
            form = InviteCosponsorForm(
                request.POST, candidates=selectors.organizations_to_invite(campaign=campaign)
            )
            if not form.is_valid():
                raise services.CampaignError(_("Choose a member organization to invite."))
            services.cosponsor_invite(
                campaign=campaign,
                organization=organization,
                invitee=form.cleaned_data["organization"],
                user=user,
            )
            messages.success(request, _("Invitation sent."))
        elif action in {"accept", "decline"}:
            services.cosponsor_respond(
                cosponsorship=campaign.cosponsorships.get(organization=organization),
                user=user,
                accept=action == "accept",
            )
            messages.success(request, _("Answer recorded."))
        elif action == "withdraw":
            services.cosponsor_withdraw(campaign=campaign, organization=organization, user=user)
            messages.success(request, _("Your organization no longer co-sponsors this campaign."))
            return redirect("campaigns:dashboard", org=organization.slug)
        elif action == "go_live":
            services.campaign_go_live(campaign=campaign, organization=organization, user=user)
            messages.success(request, _("The campaign is live."))
        elif action == "endorse":
            decision = services.campaign_request_endorsement(
                campaign=campaign, organization=organization, user=user
            )
            messages.success(request, _("The coalition is asked to endorse the campaign."))
            return redirect(decision)
        elif action == "high_security_on":
            security.campaign_high_security_on(
                campaign=campaign, organization=organization, user=user
            )
            messages.success(
                request,
                _(
                    "High security is on. Signers give no city and no name is shown; their "
                    "data is deleted soon after the campaign closes."
                ),
            )
        elif action == "high_security_off":
            security.campaign_high_security_off_propose(
                campaign=campaign, organization=organization, user=user
            )
            messages.success(
                request,
                _(
                    "Your proposal to switch high security off is sent to the other "
                    "co-sponsors: it takes effect when every co-sponsor's admin approved it and "
                    "nobody has signed."
                ),
            )
        else:
            raise Http404
    except joint.JointActError as exc:
        messages.error(request, str(exc))
    except services.CampaignError as exc:
        messages.error(request, str(exc))
    return redirect("campaigns:manage", org=organization.slug, slug=campaign.slug)


@login_required
def petition_create(request: HttpRequest, org: str, slug: str) -> HttpResponse:
    organization, campaign = campaign_for(request, org, slug, roles=access.EDITORS)
    return form_flow(
        request,
        PetitionForm(request.POST or None),
        save=lambda data: services.petition_create(
            campaign=campaign, organization=organization, user=access.request_user(request), **data
        ),
        errors=(services.CampaignError,),
        success=_("Petition added."),
        done=lambda _p: redirect("campaigns:manage", org=organization.slug, slug=campaign.slug),
        template="campaigns/petition_form.html",
        context={"organization": organization, "campaign": campaign},
    )


@login_required
def campaign_close(request: HttpRequest, org: str, slug: str) -> HttpResponse:
    organization, campaign = campaign_for(request, org, slug, roles=access.EDITORS)
    return form_flow(
        request,
        CloseCampaignForm(request.POST or None),
        save=lambda data: services.campaign_close_propose(
            campaign=campaign, organization=organization, user=access.request_user(request), **data
        ),
        errors=(services.CampaignError,),
        success=_(
            "Your proposal to close the campaign is sent to the other co-sponsors. It takes "
            "effect when they agree, or when the time to object passes with no objection."
        ),
        done=lambda _act: redirect("campaigns:manage", org=organization.slug, slug=campaign.slug),
        template="campaigns/campaign_close.html",
        context={
            "organization": organization,
            "campaign": campaign,
            "objection_hours": int(settings.JOINT_ACT_OBJECTION_PERIOD.total_seconds() // 3600),
        },
    )


@login_required
@require_POST
def act_answer(request: HttpRequest, org: str, slug: str, pk: int) -> HttpResponse:
    """An admin of a co-sponsor (with two-factor sign-in) approves or objects for it."""
    organization, campaign = campaign_for(request, org, slug, roles=access.ADMIN)
    act = get_object_or_404(JointAct, pk=pk, campaign=campaign)
    limit(request, scope="org_write", key=f"user:{request.user.pk}")
    form = JointActAnswerForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(str(m) for ms in form.errors.values() for m in ms))
    else:
        try:
            joint.joint_act_answer(
                act=act,
                organization=organization,
                user=access.request_user(request),
                approve=form.cleaned_data["answer"] == JointActAnswer.Answer.APPROVE,
                reason=form.cleaned_data["reason"],
            )
        except joint.JointActError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(
                request, _("Answer recorded on behalf of %(name)s.") % {"name": organization}
            )
    return redirect("campaigns:manage", org=organization.slug, slug=campaign.slug)


@login_required
@require_POST
def act_withdraw(request: HttpRequest, org: str, slug: str, pk: int) -> HttpResponse:
    organization, campaign = campaign_for(request, org, slug, roles=access.EDITORS)
    act = get_object_or_404(JointAct, pk=pk, campaign=campaign)
    limit(request, scope="org_write", key=f"user:{request.user.pk}")
    try:
        joint.joint_act_withdraw(
            act=act, organization=organization, user=access.request_user(request)
        )
    except joint.JointActError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("The proposal is withdrawn."))
    return redirect("campaigns:manage", org=organization.slug, slug=campaign.slug)


@login_required
def outcome_create(request: HttpRequest, org: str, slug: str) -> HttpResponse:
    organization, campaign = campaign_for(request, org, slug, roles=access.EDITORS)
    return form_flow(
        request,
        OutcomeForm(request.POST or None, request.FILES or None),
        save=lambda data: services.outcome_record(
            campaign=campaign, organization=organization, user=access.request_user(request), **data
        ),
        errors=(services.CampaignError,),
        success=_("Recorded. It is on the campaign's public timeline."),
        done=lambda _e: redirect(campaign),
        template="campaigns/outcome_form.html",
        context={"organization": organization, "campaign": campaign},
    )


EXPORT_BATCH = 1000  # rows per chunk sent (and per sealed line)
_UPDATES = {"t": "yes", "f": "no"}  # PostgreSQL's text of wants_updates, as the file says it


@never_cache
@login_required
def supporters_export(request: HttpRequest, org: str, slug: str) -> StreamingHttpResponse:
    """Stream, row by row, the supporters who consented to this organization; log the export."""
    organization, campaign = campaign_for(
        request, org, slug, roles=access.EDITORS, signer_data=True
    )
    try:
        export = services.supporter_export_start(
            campaign=campaign, organization=organization, user=access.request_user(request)
        )
    except services.CampaignError as exc:
        raise Http404(str(exc)) from exc
    # With a registered key every batch is sealed to it: only the organization can open the file.
    box = sealer(organization.export_public_key) if organization.export_public_key else None
    header = ["name", "email", "country", "city", "petition", "confirmed_at", "updates"]

    def rows() -> Iterator[str]:
        buffer = io.StringIO()
        writer = csv.writer(buffer)

        def flush() -> str:
            text = buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
            return seal_line(box, text) if box else text

        if box:
            yield SEALED_HEADER
        writer.writerow(header)
        count = 0
        # One consistent snapshot for the whole file (the selector's own transaction).
        for columns in selectors.supporters_for_export_columns(
            campaign=campaign, organization=organization, batch=EXPORT_BATCH
        ):
            count += len(columns)
            buffer.write(
                csv_text(
                    [
                        csv_column(columns.name),
                        csv_column(columns.email),
                        columns.country,
                        csv_column(columns.city),
                        [columns.petition] * len(columns),
                        columns.confirmed_at,
                        list(map(_UPDATES.__getitem__, columns.wants_updates)),  # joint updates
                    ]
                )
            )
            yield flush()
        if buffer.tell():
            yield flush()
        services.supporter_export_finish(export=export, rows=count)

    response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
    suffix = "sealed.csv" if box else "csv"
    response["Content-Disposition"] = (
        f'attachment; filename="{campaign.slug}-{organization.slug}-supporters.{suffix}"'
    )
    return response
