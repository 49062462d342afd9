"""Who may act for an organization. Every app's views ask here; nothing checks roles inline."""

from __future__ import annotations

from allauth.mfa.utils import is_mfa_enabled
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _

from members.middleware import MfaSetupRequired
from members.models import Membership, Organization, User


def request_user(request: HttpRequest) -> User:
    user = request.user
    if not isinstance(user, User):
        raise PermissionDenied(_("Sign in first."))
    return user


def organization_for(
    request: HttpRequest, slug: str, *, roles: set[str]
) -> tuple[Organization, Membership]:
    """The organization in the URL and the person's membership, if their role is in ``roles``.

    Admins act for their whole organization, so an admin must have two-factor sign-in set up
    before doing anything as an admin.
    """
    organization = get_object_or_404(Organization, slug=slug)
    user = request_user(request)
    membership = Membership.objects.filter(user=user, organization=organization).first()
    if membership is None or membership.role not in roles:
        raise PermissionDenied(_("Your role in this organization does not allow this."))
    if (
        membership.role == Membership.Role.ADMIN
        and settings.REQUIRE_ADMIN_MFA
        and not is_mfa_enabled(user)
    ):
        raise MfaSetupRequired
    return organization, membership


ADMIN: set[str] = {Membership.Role.ADMIN}
EDITORS: set[str] = {Membership.Role.ADMIN, Membership.Role.EDITOR}
EVERYONE: set[str] = {Membership.Role.ADMIN, Membership.Role.EDITOR, Membership.Role.VIEWER}
