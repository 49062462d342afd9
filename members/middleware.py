from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _


class MfaSetupRequired(Exception):
    """An organization admin tried to act for the organization without two-factor sign-in."""


class MfaSetupRedirectMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, MfaSetupRequired):
            return None
        messages.warning(
            request,
            _(
                "Organization admins act for their whole organization, so they must use "
                "two-factor sign-in. Set up an authenticator app to continue."
            ),
        )
        return redirect("mfa_activate_totp")
