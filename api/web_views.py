"""The organization's API token pages: check access, validate a form, call one service, respond."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from api import selectors, services
from api.forms import TokenForm
from api.models import ApiToken
from foundation.ratelimit import limit
from members import access
from members.models import Organization


def _organization_for_admin(request: HttpRequest, slug: str) -> Organization:
    # A token reads supporters' personal data: admins only, and with two-factor sign-in.
    return access.organization_for(request, slug, roles=access.ADMIN, signer_data=True)[0]


@never_cache  # the page that shows a new token once must not be kept by any cache
@login_required
def tokens(request: HttpRequest, slug: str) -> HttpResponse:
    organization = _organization_for_admin(request, slug)
    form = TokenForm(request.POST or None)
    created = None
    if request.method == "POST":
        limit(request, scope="org_write", key=f"user:{request.user.pk}")
        if form.is_valid():
            scopes = form.cleaned_data["scopes"]
            try:
                token, plain = services.token_create(
                    organization=organization,
                    user=access.request_user(request),
                    name=form.cleaned_data["name"],
                    read="read" in scopes,
                    write="write" in scopes,
                )
            except services.TokenError as exc:
                form.add_error(None, str(exc))
            else:
                # Shown in this response only: not in a message, session or redirect target.
                created = (token, plain)
                form = TokenForm()
    return render(
        request,
        "api/tokens.html",
        {
            "organization": organization,
            "tokens": selectors.organization_tokens(organization=organization),
            "form": form,
            "created": created,
            "osdi_url": settings.SITE_URL + reverse("osdi:api-root"),
        },
        status=400 if form.errors else 200,
    )


@login_required
@require_POST
def token_revoke(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    organization = _organization_for_admin(request, slug)
    limit(request, scope="org_write", key=f"user:{request.user.pk}")
    token = get_object_or_404(ApiToken, pk=pk, organization=organization)
    services.token_revoke(token=token, user=access.request_user(request))
    messages.success(request, _("Token “%(name)s” revoked.") % {"name": token.name})
    return redirect("api_tokens:tokens", slug=organization.slug)
