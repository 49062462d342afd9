"""Views: check access, validate a form, call one service, respond.

Every page here is for the organization's admins, with two-factor sign-in (members/access.py):
an endpoint decides where supporters' personal data goes.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from foundation.ratelimit import limit
from members import access
from members.models import Organization
from webhooks import selectors, services
from webhooks.forms import EndpointForm
from webhooks.models import Delivery, Endpoint


def _endpoint_for_admin(request: HttpRequest, org: str, pk: int) -> tuple[Organization, Endpoint]:
    organization = access.organization_for(request, org, roles=access.ADMIN)[0]
    return organization, get_object_or_404(Endpoint, pk=pk, organization=organization)


def _write_limit(request: HttpRequest) -> None:
    limit(request, scope="org_write", key=f"user:{request.user.pk}")


def _secret_page(request: HttpRequest, endpoint: Endpoint, secret: str) -> HttpResponse:
    """The signing secret, once: it is not stored anywhere we show it again."""
    return render(
        request,
        "webhooks/endpoint_secret.html",
        {"organization": endpoint.organization, "endpoint": endpoint, "secret": secret},
    )


@never_cache
@login_required
def endpoints(request: HttpRequest, org: str) -> HttpResponse:
    organization = access.organization_for(request, org, roles=access.ADMIN)[0]
    form = EndpointForm(request.POST or None)
    status = 200
    if request.method == "POST":
        _write_limit(request)
        if form.is_valid():
            try:
                endpoint, secret = services.endpoint_create(
                    organization=organization,
                    user=access.request_user(request),
                    url=form.cleaned_data["url"],
                    event_types=form.cleaned_data["events"],
                    description=form.cleaned_data["description"],
                    seal_personal_data=form.cleaned_data["seal_personal_data"],
                )
            except services.WebhookError as exc:
                form.add_error(None, str(exc))
            else:
                return _secret_page(request, endpoint, secret)
        status = 400
    return render(
        request,
        "webhooks/endpoint_list.html",
        {
            "organization": organization,
            "endpoints": selectors.endpoints_of(organization=organization),
            "form": form,
        },
        status=status,
    )


@never_cache
@login_required
def endpoint(request: HttpRequest, org: str, pk: int) -> HttpResponse:
    organization, endpoint = _endpoint_for_admin(request, org, pk)
    initial = {
        "url": endpoint.url,
        "description": endpoint.description,
        "events": endpoint.events,
        "seal_personal_data": endpoint.seal_personal_data,
    }
    form = EndpointForm(request.POST or None, initial=initial)
    status = 200
    if request.method == "POST":
        _write_limit(request)
        if form.is_valid():
            try:
                services.endpoint_update(
                    endpoint=endpoint,
                    url=form.cleaned_data["url"],
                    event_types=form.cleaned_data["events"],
                    description=form.cleaned_data["description"],
                    seal_personal_data=form.cleaned_data["seal_personal_data"],
                )
            except services.WebhookError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, _("Endpoint saved."))
                return redirect("webhooks:endpoint", org=organization.slug, pk=endpoint.pk)
        status = 400
    page = Paginator(selectors.deliveries_of(endpoint=endpoint), 50).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "webhooks/endpoint_detail.html",
        {"organization": organization, "endpoint": endpoint, "form": form, "page": page},
        status=status,
    )


@never_cache
@login_required
@require_POST
def endpoint_rotate(request: HttpRequest, org: str, pk: int) -> HttpResponse:
    _organization, endpoint = _endpoint_for_admin(request, org, pk)
    _write_limit(request)
    secret = services.endpoint_rotate_secret(endpoint=endpoint)
    return _secret_page(request, endpoint, secret)


@login_required
@require_POST
def endpoint_enable(request: HttpRequest, org: str, pk: int) -> HttpResponse:
    organization, endpoint = _endpoint_for_admin(request, org, pk)
    _write_limit(request)
    try:
        services.endpoint_enable(endpoint=endpoint)
    except services.WebhookError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("The endpoint is active again."))
    return redirect("webhooks:endpoint", org=organization.slug, pk=endpoint.pk)


@login_required
@require_POST
def endpoint_delete(request: HttpRequest, org: str, pk: int) -> HttpResponse:
    organization, endpoint = _endpoint_for_admin(request, org, pk)
    _write_limit(request)
    services.endpoint_delete(endpoint=endpoint)
    messages.success(request, _("Endpoint deleted."))
    return redirect("webhooks:endpoints", org=organization.slug)


@login_required
@require_POST
def delivery_replay(request: HttpRequest, org: str, pk: int, delivery: int) -> HttpResponse:
    organization, endpoint = _endpoint_for_admin(request, org, pk)
    _write_limit(request)
    row = get_object_or_404(Delivery, pk=delivery, endpoint=endpoint)
    try:
        services.delivery_replay(delivery=row)
    except services.WebhookError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("The event will be sent again."))
    return redirect("webhooks:endpoint", org=organization.slug, pk=endpoint.pk)
