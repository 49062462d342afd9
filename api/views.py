"""API views: parse the request, validate with the same form as the HTML page, call one service."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS
from django.core.paginator import EmptyPage, Paginator
from django.forms import Form
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.cache import patch_cache_control, patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt

from api import openapi as openapi_document
from api import payload, problems, representations
from campaigns import selectors, services
from campaigns.forms import SignatureForm
from campaigns.limits import sign_ip_limit, sign_limits

# Petition data may lag by seconds anyway (counts are folded in batches); a short public cache
# absorbs a widget embedded on a busy page without making a new signature look lost.
CACHE_SECONDS = 30


def _json(data: dict[str, Any], *, status: int = 200, cache_seconds: int = 0) -> JsonResponse:
    response = JsonResponse(data, status=status, json_dumps_params={"ensure_ascii": False})
    if cache_seconds:
        patch_cache_control(response, public=True, max_age=cache_seconds)
        # LocaleMiddleware varies on Accept-Language, but the language cookie (the site's
        # language switcher) also picks the language: a shared cache must key on it as well.
        patch_vary_headers(response, ["Cookie"])
    return response


def _page_url(request: HttpRequest, page: int) -> str:
    query = request.GET.copy()
    query["page"] = str(page)
    return request.build_absolute_uri(f"{request.path}?{query.urlencode()}")


@csrf_exempt  # no cookies authenticate here; other methods must get our 405
@problems.allow("GET", "HEAD")
def petition_list(request: HttpRequest) -> HttpResponse:
    number = payload.query_int(request, "page", default=1, maximum=None)
    size = payload.query_int(
        request, "page_size", default=payload.PAGE_SIZE, maximum=payload.MAX_PAGE_SIZE
    )
    try:
        page = Paginator(selectors.petitions_open(), size).page(number)
    except EmptyPage:
        raise problems.not_found(_("There is no page %(n)d.") % {"n": number}) from None
    return _json(
        {
            "count": page.paginator.count,
            "next": _page_url(request, number + 1) if page.has_next() else None,
            "previous": _page_url(request, number - 1) if page.has_previous() else None,
            "results": [representations.petition_summary(p) for p in page.object_list],
        },
        cache_seconds=CACHE_SECONDS,
    )


@csrf_exempt  # no cookies authenticate here; other methods must get our 405
@problems.allow("GET", "HEAD")
def petition_detail(request: HttpRequest, slug: str) -> HttpResponse:
    petition = selectors.petition_public(slug=slug)
    if petition is None:
        raise problems.not_found(_("No petition has this short name."))
    return _json(
        representations.petition_detail(
            petition,
            cosponsors=selectors.campaign_cosponsors(campaign=petition.campaign),
            countries=selectors.petition_countries(petition=petition),
        ),
        cache_seconds=CACHE_SECONDS,
    )


def _form_errors(form: Form) -> dict[str, list[str]]:
    """The form's errors under the API's names: consent boxes are one `consents` list."""
    errors: dict[str, list[str]] = {}
    for name, messages in form.errors.items():
        if name == NON_FIELD_ERRORS:
            name = problems.NON_FIELD
        elif name.startswith(payload.CONSENT_PREFIX):
            name = "consents"
        errors.setdefault(name, []).extend(str(m) for m in messages)
    return errors


def _accepted() -> JsonResponse:
    # The same answer for a new signature, a repeat and a bot: nobody learns who has signed.
    return _json({"status": "confirmation_sent"}, status=202)


# No cookie or session authenticates this endpoint, so there is nothing for CSRF to protect.
@csrf_exempt
@never_cache
@problems.allow("POST")
def signature_create(request: HttpRequest, slug: str) -> HttpResponse:
    petition = selectors.petition_public(slug=slug)
    if petition is None or not petition.is_open:
        raise problems.not_found(_("No open petition has this short name."))
    sign_ip_limit(request)
    body = payload.read(request)
    cosponsors = list(selectors.campaign_cosponsors(campaign=petition.campaign))
    data, errors = payload.form_data(
        body,
        fields=SignatureForm(cosponsors=cosponsors).fields,
        cosponsors=[o.slug for o in cosponsors],
    )
    source_slug, source_errors = payload.source_slug(body)
    form = SignatureForm(data, cosponsors=cosponsors)
    if not form.is_valid() or errors or source_errors:
        # Errors of type win over the form's "required": they say what was actually wrong.
        raise problems.invalid({**_form_errors(form), **errors, **source_errors})
    if form.is_bot:
        return _accepted()  # look like success; write nothing
    # The same budgets as the sign page: without a solved proof of work, the shared budget of
    # posts without one (no form token here: an API client has no page to age one on), the
    # petition's own budget first, so an API flood at one petition leaves the others theirs.
    sign_limits(
        request,
        email=form.cleaned_data["email"],
        pow_verified=form.pow_verified,
        petition_slug=petition.slug,
    )
    # A refusal of the service (the petition closed since we looked it up: 409) becomes problem
    # details by its kind in problems.allow.
    services.signature_create(petition=petition, **form.signature_data(source_slug=source_slug))
    return _accepted()


@csrf_exempt  # no cookies authenticate here; other methods must get our 405
@problems.allow("GET", "HEAD")
def openapi(request: HttpRequest) -> HttpResponse:
    return _json(openapi_document.document(server_url=settings.SITE_URL), cache_seconds=300)


# Unknown paths under the API get a problem document too, whatever the method: a client must
# never have to parse an HTML error page (or a CSRF refusal) from us.
@csrf_exempt
def not_found(request: HttpRequest, path: str = "") -> HttpResponse:
    return problems.not_found().response()
