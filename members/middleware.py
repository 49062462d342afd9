from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlencode

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _

# Where someone sent to set up two-factor sign-in was going (members.views.TotpActivateView
# takes them there once it is set up).
MFA_SETUP_NEXT = "coalition_mfa_setup_next"


class MfaSetupRequired(Exception):
    """Someone whose role needs two-factor sign-in acted without having set it up.

    ``reason`` picks the message: ``admin`` (acting for a whole organization), ``signer_data``
    (seeing, exporting or sending signers' personal data), ``staff`` (running the service).
    """

    def __init__(self, reason: str = "admin") -> None:
        super().__init__(reason)
        self.reason = reason


class MfaSignInRequired(Exception):
    """Two-factor is set up, but this session was not signed in with it (e.g. the password only,
    before the authenticator was added): the code must be entered before going on."""


def _setup_message(reason: str) -> str:
    if reason == "staff":
        return _(
            "Platform staff can reach every organization and every signer's mail, so they must "
            "use two-factor sign-in. Set up an authenticator app to continue."
        )
    if reason == "signer_data":
        return _(
            "This page shows or sends signers' personal data, so it needs two-factor sign-in "
            "whatever your role. Set up an authenticator app to continue."
        )
    return _(
        "Organization admins act for their whole organization, so they must use "
        "two-factor sign-in. Set up an authenticator app to continue."
    )


class MfaSetupRedirectMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, MfaSetupRequired):
            messages.warning(request, _setup_message(exception.reason))
            if request.method == "GET":  # a POST's data is never replayed
                request.session[MFA_SETUP_NEXT] = request.get_full_path()
            return redirect("mfa_activate_totp")
        if isinstance(exception, MfaSignInRequired):
            # Only a GET is resumed after the code: a POST's data is never replayed.
            target = request.get_full_path() if request.method == "GET" else request.path
            query = urlencode({"next": target})
            return redirect(f"{reverse('mfa_reauthenticate')}?{query}")
        return None
