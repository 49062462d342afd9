"""Who may act for an organization, and who is staff. Every app's views (and the staff admin)
ask here; nothing checks roles or two-factor inline."""

from __future__ import annotations

from allauth.account.authentication import get_authentication_records
from allauth.mfa.utils import is_mfa_enabled
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _

from members.middleware import MfaSetupRequired, MfaSignInRequired
from members.models import Membership, Organization, User


def request_user(request: HttpRequest) -> User:
    user = request.user
    if not isinstance(user, User):
        raise PermissionDenied(_("Sign in first."))
    return user


def organization_for(
    request: HttpRequest, slug: str, *, roles: set[str], signer_data: bool = False
) -> tuple[Organization, Membership]:
    """The organization in the URL and the person's membership, if their role is in ``roles``.

    Two-factor sign-in must be set up by admins (they act for their whole organization) and, on
    routes with ``signer_data=True``, by every role: whoever can see, export or send signers'
    personal data (supporter exports, letter campaigns, petition deliveries with names) holds
    what a stolen password must not open.
    """
    organization = get_object_or_404(Organization, slug=slug)
    user = request_user(request)
    membership = Membership.objects.filter(user=user, organization=organization).first()
    if membership is None or membership.role not in roles:
        raise PermissionDenied(_("Your role in this organization does not allow this."))
    if settings.REQUIRE_ADMIN_MFA and not is_mfa_enabled(user):
        if signer_data:
            raise MfaSetupRequired("signer_data")
        if membership.role == Membership.Role.ADMIN:
            raise MfaSetupRequired("admin")
    if signer_data and not organization.is_member:
        # Suspension does not end co-sponsorships, but the coalition suspends an organization it
        # no longer trusts: from then on it sees, exports and sends no signer's data.
        raise PermissionDenied(
            _("%(name)s is not a member of the coalition now, so it cannot reach signers' data.")
            % {"name": organization.name}
        )
    return organization, membership


def admin_backs(*, organization: Organization, user: User | None) -> bool:
    """Whether what a person set up to reach signers' data for an organization without a
    session (an API token, a webhook endpoint) still has someone behind it: the organization is
    a member of the coalition (not suspended) and that person is still an active admin of it.
    Asked on every use, so suspension or an admin's departure stops the flow at once."""
    return (
        organization.status == Organization.Status.MEMBER
        and user is not None
        and user.is_active
        and Membership.objects.filter(
            user=user, organization=organization, role=Membership.Role.ADMIN
        ).exists()
    )


def is_staff(request: HttpRequest) -> bool:
    """Whether the request comes from platform staff who signed in with their second factor.

    False for everyone who is not active staff (they are sent to sign in). Staff reach every
    organization's data and every signer's mail, so two-factor is not optional for them (no
    setting turns it off): without it set up they are sent to set it up (MfaSetupRequired); with
    it set up but not used in this session (a password-only session from before it was added)
    they are asked for a code (MfaSignInRequired).
    """
    user = request.user
    if not (isinstance(user, User) and user.is_active and user.is_staff):
        return False
    if not is_mfa_enabled(user):
        raise MfaSetupRequired("staff")
    records = get_authentication_records(request, user)
    if not any(record.get("method") == "mfa" for record in records):
        raise MfaSignInRequired
    return True


ADMIN: set[str] = {Membership.Role.ADMIN}
EDITORS: set[str] = {Membership.Role.ADMIN, Membership.Role.EDITOR}
EVERYONE: set[str] = {Membership.Role.ADMIN, Membership.Role.EDITOR, Membership.Role.VIEWER}
