"""The staff admin at /staff/: signed into only through allauth, and only with two factors.

Django's admin has its own login form, which checks the password alone: no second factor, no
lockout (40 wrong passwords in a row were all answered 200). Here that form is gone: its URL
sends people to allauth's sign-in (the same two-factor step and the same lockout, answered
429 + Retry-After, as the rest of the site), and every admin page asks members.access.is_staff,
which also demands that the session was signed into with the second factor. The admin's
password change and logout are allauth's too, so no staff account action bypasses allauth.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from allauth.account.views import logout as allauth_logout
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _

from members import access


class StaffAdminSite(admin.AdminSite):
    def has_permission(self, request: HttpRequest) -> bool:
        if request.path == reverse("admin:logout", current_app=self.name):
            # Leaving must never require the second factor.
            return bool(request.user.is_active and request.user.is_staff)
        return access.is_staff(request)

    def login(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> Any:
        """Never authenticates: sends everyone to allauth's sign-in, then back to ``next``."""
        target = request.GET.get("next", "")
        if not url_has_allowed_host_and_scheme(
            target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        ):
            target = reverse("admin:index", current_app=self.name)
        if request.user.is_authenticated:
            if self.has_permission(request):  # may send staff to set up or enter their code
                return HttpResponseRedirect(target)
            # Signed in, but not staff: allauth would send them straight back here (a loop).
            raise PermissionDenied(_("Only platform staff can use the staff pages."))
        return HttpResponseRedirect(f"{reverse('account_login')}?{urlencode({'next': target})}")

    def logout(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> Any:
        return allauth_logout(request)

    def password_change(  # type: ignore[override]  # a redirect, not the admin's form
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        # allauth's asks for the current password, is rate limited and notifies by email.
        return HttpResponseRedirect(reverse("account_change_password"))

    def password_change_done(  # type: ignore[override]
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        return HttpResponseRedirect(reverse("account_change_password"))
