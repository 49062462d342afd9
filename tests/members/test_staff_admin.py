"""The staff admin at /staff/ is signed into only through allauth, and only with two factors.

The attack (issue 10, item 2): Django's own admin login form took a staff password alone (no
second factor even when the account had one) and answered 40 wrong passwords in a row with 200.
"""

from __future__ import annotations

import pytest
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.test import Client
from django.urls import reverse

from tests.factories import PASSWORD, UserFactory, make_staff, sign_in, totp_code

pytestmark = pytest.mark.django_db

STAFF_PAGES = ["/staff/", "/staff/outbox/email/", "/staff/members/user/"]


def test_the_admin_login_form_never_signs_in_even_with_the_right_password(client: Client):
    staff, _secret = make_staff()
    response = client.post(
        reverse("admin:login") + "?next=/staff/",
        {"username": staff.email, "password": PASSWORD, "next": "/staff/"},
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("account_login") + "?next=%2Fstaff%2F"
    assert "_auth_user_id" not in client.session
    assert client.get("/staff/").status_code == 302  # still signed out


def test_staff_without_two_factor_cannot_sign_in_through_the_admin_form_either(client: Client):
    staff, _ = make_staff(mfa=False)
    client.post(reverse("admin:login"), {"username": staff.email, "password": PASSWORD})
    assert "_auth_user_id" not in client.session


def test_forty_wrong_staff_passwords_are_refused_with_429_and_retry_after(client: Client):
    staff, _secret = make_staff()
    wrong = {"username": staff.email, "login": staff.email, "password": "wrong password"}
    # The admin's door checks no password at all: every attempt is sent to allauth's sign-in.
    for _ in range(40):
        response = client.post(reverse("admin:login"), wrong)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("account_login"))
    # Through that door the lockout holds: the sixth wrong password is already a 429.
    answers = [client.post(reverse("account_login"), wrong).status_code for _ in range(40)]
    assert answers[:5] == [200] * 5
    assert set(answers[5:]) == {429}
    right = client.post(reverse("account_login"), {"login": staff.email, "password": PASSWORD})
    assert right.status_code == 429
    assert int(right["Retry-After"]) > 0
    assert "_auth_user_id" not in client.session


@pytest.mark.parametrize("page", STAFF_PAGES)
def test_staff_without_two_factor_is_sent_to_set_it_up(client: Client, page: str):
    staff, _ = make_staff(mfa=False)
    sign_in(client, staff)  # the password was right; allauth had no second factor to ask for
    response = client.get(page)
    assert response.status_code == 302
    assert response["Location"] == reverse("mfa_activate_totp")


@pytest.mark.parametrize("page", STAFF_PAGES)
def test_staff_signed_in_without_the_code_must_enter_it_first(client: Client, page: str):
    staff, _ = make_staff(mfa=False)
    sign_in(client, staff)  # a password-only session ...
    secret = generate_totp_secret()
    TOTP.activate(staff, secret)  # ... from before the authenticator was added
    response = client.get(page)
    assert response.status_code == 302
    assert response["Location"] == reverse("mfa_reauthenticate") + "?next=" + page.replace(
        "/", "%2F"
    )
    entered = client.post(response["Location"], {"code": totp_code(secret)})
    assert entered.status_code == 302 and entered["Location"] == page
    assert client.get(page).status_code == 200


def test_a_session_opened_without_the_second_factor_does_not_reach_staff_pages(client: Client):
    """Whatever opened it (the old admin form, a session from elsewhere): no code, no admin."""
    staff, _secret = make_staff()
    client.force_login(staff)
    response = client.get("/staff/")
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("mfa_reauthenticate"))


@pytest.mark.parametrize("page", STAFF_PAGES)
def test_staff_with_two_factor_after_a_full_sign_in_reach_the_admin(client: Client, page: str):
    staff, secret = make_staff()
    sign_in(client, staff, secret)
    assert client.get(page).status_code == 200


def test_admin_login_page_forwards_a_fully_signed_in_staff_member(client: Client):
    staff, secret = make_staff()
    sign_in(client, staff, secret)
    response = client.get(reverse("admin:login") + "?next=/staff/outbox/")
    assert response.status_code == 302 and response["Location"] == "/staff/outbox/"


def test_admin_login_never_forwards_to_another_host(client: Client):
    response = client.get(reverse("admin:login") + "?next=https://evil.example/")
    assert response["Location"] == reverse("account_login") + "?next=%2Fstaff%2F"


def test_signed_in_non_staff_get_a_refusal_not_a_redirect_loop(client: Client):
    client.force_login(UserFactory())
    assert client.get("/staff/").status_code == 302  # to the admin's login URL ...
    assert client.get(reverse("admin:login") + "?next=/staff/").status_code == 403  # ... refused


def test_admin_password_change_is_allauths(client: Client):
    staff, secret = make_staff()
    sign_in(client, staff, secret)
    for name in ("admin:password_change", "admin:password_change_done"):
        response = client.post(
            reverse(name),
            {"old_password": PASSWORD, "new_password1": "x" * 12, "new_password2": "x" * 12},
        )
        assert response.status_code == 302
        assert response["Location"] == reverse("account_change_password")
    staff.refresh_from_db()
    assert staff.check_password(PASSWORD)  # the admin's form changed nothing


def test_admin_logout_is_allauths(client: Client):
    staff, secret = make_staff()
    sign_in(client, staff, secret)
    response = client.post(reverse("admin:logout"))
    assert response.status_code == 302
    assert "_auth_user_id" not in client.session


def test_staff_without_two_factor_can_still_sign_out(client: Client):
    staff, _ = make_staff(mfa=False)
    sign_in(client, staff)
    client.post(reverse("admin:logout"))
    assert "_auth_user_id" not in client.session


def test_guessing_the_code_after_a_stolen_password_is_locked_out_with_429(client: Client):
    """The second step holds like the first: 5 wrong codes, then 429 + Retry-After, right or not."""
    staff, secret = make_staff()
    response = client.post(reverse("account_login"), {"login": staff.email, "password": PASSWORD})
    assert response["Location"] == reverse("mfa_authenticate")
    answers = [
        client.post(reverse("mfa_authenticate"), {"code": "000000"}).status_code for _ in range(8)
    ]
    assert answers[:5] == [200] * 5  # the form, with "Incorrect code."
    assert set(answers[5:]) == {429}
    right = client.post(reverse("mfa_authenticate"), {"code": totp_code(secret)})
    assert right.status_code == 429
    assert int(right["Retry-After"]) > 0
    assert "_auth_user_id" not in client.session
    assert client.get("/staff/").status_code == 302


def test_staff_cannot_make_anyone_a_member_or_admin_of_an_organization(client: Client):
    """A membership opens the organization's supporter export. The organization admin's inline
    let staff (or a stolen staff password) add themselves, or anyone, as its admin, or turn an
    editor into one. Memberships are read only there; teams are managed through invitations."""
    from members.models import Membership
    from tests.admin_forms import admin_change_data
    from tests.factories import MemberOrganizationFactory, make_member

    organization = MemberOrganizationFactory(name="Delta Docs")
    editor = make_member(organization, Membership.Role.EDITOR)
    staff, secret = make_staff()
    sign_in(client, staff, secret)
    url = reverse("admin:members_organization_change", args=[organization.pk])
    page = client.get(url)
    assert page.status_code == 200
    data = admin_change_data(page)
    prefix = "memberships"
    data.update({f"{prefix}-0-role": Membership.Role.ADMIN})  # promote the editor
    total = int(data[f"{prefix}-TOTAL_FORMS"])
    data.update(  # and add the staff member as an admin
        {
            f"{prefix}-TOTAL_FORMS": str(total + 1),
            f"{prefix}-{total}-user": str(staff.pk),
            f"{prefix}-{total}-role": Membership.Role.ADMIN,
            f"{prefix}-{total}-organization": str(organization.pk),
            f"{prefix}-{total}-created_at_0": "2026-11-30",
            f"{prefix}-{total}-created_at_1": "10:00:00",
        }
    )
    response = client.post(url, data)
    assert response.status_code == 302  # the organization saves; the memberships stay as they were
    assert not Membership.objects.filter(user=staff).exists()
    assert Membership.objects.get(user=editor).role == Membership.Role.EDITOR


def test_staff_may_remove_a_membership(client: Client):
    from members.models import Membership
    from tests.admin_forms import admin_change_data
    from tests.factories import MemberOrganizationFactory, make_member

    organization = MemberOrganizationFactory(name="Epsilon Exile")
    abuser = make_member(organization, Membership.Role.EDITOR)
    staff, secret = make_staff()
    sign_in(client, staff, secret)
    url = reverse("admin:members_organization_change", args=[organization.pk])
    data = admin_change_data(client.get(url))
    data["memberships-0-DELETE"] = "on"
    assert data["memberships-0-id"] == str(Membership.objects.get(user=abuser).pk)
    response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:3000]
    assert not Membership.objects.filter(user=abuser).exists()


def test_staff_cannot_raise_an_invitations_role_or_write_one(client: Client):
    """A pending invitation's role and address were editable: staff could make the invitee an
    admin (the supporter export) or extend an old invitation. Staff may still revoke one."""
    from members.models import Invitation, Membership
    from members.services import invitation_create
    from tests.admin_forms import admin_change_data
    from tests.factories import MemberOrganizationFactory, make_admin

    organization = MemberOrganizationFactory(name="Zeta Zone")
    invitation, _token = invitation_create(
        organization=organization,
        email="new.editor@example.org",
        role=Membership.Role.EDITOR,
        invited_by=make_admin(organization),
    )
    staff, secret = make_staff()
    sign_in(client, staff, secret)
    url = reverse("admin:members_invitation_change", args=[invitation.pk])
    data = admin_change_data(client.get(url))
    data.update({"role": Membership.Role.ADMIN, "email": "spy@attacker.example"})
    data.update({"revoked_at_0": "2026-11-30", "revoked_at_1": "10:00:00"})
    assert client.post(url, data).status_code == 302
    invitation.refresh_from_db()
    assert invitation.role == Membership.Role.EDITOR
    assert invitation.email == "new.editor@example.org"
    assert invitation.revoked_at is not None  # revoking still works
    add = reverse("admin:members_invitation_add")
    assert client.post(add, {"email": "x@example.org", "role": "admin"}).status_code == 403
    assert Invitation.objects.count() == 1
