from __future__ import annotations

import re
import time

import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.totp.internal.auth import (
    TOTP,
    format_hotp_value,
    generate_totp_secret,
    hotp_value,
)
from django.core import mail
from django.test import Client
from django.urls import reverse

from members.models import Decision, Membership, Organization, User, Vote
from members.services import organization_apply, organization_screen
from tests.factories import (
    PASSWORD,
    MemberOrganizationFactory,
    OrganizationFactory,
    UserFactory,
    make_admin,
    make_member,
)

pytestmark = pytest.mark.django_db

APPLICATION = {
    "name": "Vilnius Emigre Center",
    "country_of_registration": "LT",
    "countries_of_operation": ["LT", "LV"],
    "website": "https://vilnius.example.org",
    "mission": "Help with residence permits.",
    "languages": ["ru", "en"],
    "legal_status": "ngo",
    "funding_disclosure": "Private donations.",
    "contact_email": "vilnius@example.org",
}


def _open_admission(applicant: User | None = None) -> Decision:
    organization = organization_apply(
        user=applicant or UserFactory(), **{**APPLICATION, "name": "Applicant Org"}
    )
    organization_screen(organization=organization, by=UserFactory(is_staff=True), admit=True)
    return Decision.objects.get(organization=organization)


def _staff_client(client: Client) -> User:
    """Sign a staff member in as a person does: allauth's form, then the authenticator's code."""
    staff = UserFactory(is_staff=True, is_superuser=True)
    secret = generate_totp_secret()
    TOTP.activate(staff, secret)
    response = client.post(reverse("account_login"), {"login": staff.email, "password": PASSWORD})
    assert response["Location"] == reverse("mfa_authenticate")
    code = format_hotp_value(hotp_value(secret, int(time.time()) // 30))
    response = client.post(reverse("mfa_authenticate"), {"code": code})
    assert response.status_code == 302, response.content
    return staff


# --- public pages ---------------------------------------------------------------------------


def test_directory_lists_members_alphabetically_and_hides_applicants(client):
    MemberOrganizationFactory(name="Zeta Union", slug="zeta")
    MemberOrganizationFactory(name="alpha house", slug="alpha")
    MemberOrganizationFactory(name="Beta Group", slug="beta")
    OrganizationFactory(name="Applicant Only", slug="applicant")
    response = client.get(reverse("members:directory"))
    assert response.status_code == 200
    html = response.content.decode()
    assert html.index("alpha house") < html.index("Beta Group") < html.index("Zeta Union")
    assert "Applicant Only" not in html


def test_ledger_shows_each_organizations_vote(client, members):
    decision = _open_admission()
    admin = members[0].memberships.get().user
    from members.services import vote_cast

    vote_cast(decision=decision, organization=members[0], user=admin, choice="disagree")
    response = client.get(reverse("members:decision", args=[decision.pk]))
    assert response.status_code == 200
    assert members[0].name in response.content.decode()
    assert "Disagree" in response.content.decode()
    ledger = client.get(reverse("members:decisions"), {"status": "open"})
    assert decision.title in ledger.content.decode()


def test_unknown_ledger_filters_are_ignored_not_errors(client, members):
    response = client.get(reverse("members:decisions"), {"status": "<script>", "page": "abc"})
    assert response.status_code == 200


def test_rejected_organization_has_no_public_profile(client):
    OrganizationFactory(slug="spam", status=Organization.Status.REJECTED)
    assert client.get(reverse("members:organization", args=["spam"])).status_code == 404


def test_every_page_sends_a_strict_content_security_policy(client):
    response = client.get(reverse("home"))
    policy = response["Content-Security-Policy"]
    assert "default-src 'none'" in policy
    assert "script-src 'self'" in policy
    assert "http" not in policy  # no other host is allowed anywhere


# --- sign-up and sign-in --------------------------------------------------------------------


def test_sign_up_requires_confirming_the_email(client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("account_signup"),
            {"email": "new@example.org", "password1": PASSWORD, "password2": PASSWORD},
        )
    assert response.status_code == 302
    user = User.objects.get(email="new@example.org")
    assert not EmailAddress.objects.get(user=user).verified
    # not signed in until the address is confirmed
    assert client.get(reverse("members:dashboard")).status_code == 302
    assert len(mail.outbox) == 1
    link = re.search(r"https?://\S+/accounts/confirm-email/\S+/", mail.outbox[0].body)
    assert link is not None
    path = link.group(0).split("testserver", 1)[1]
    assert client.post(path).status_code == 302
    assert EmailAddress.objects.get(user=user).verified
    assert client.get(reverse("members:dashboard")).status_code == 200


def test_sign_up_with_bad_input_creates_nothing(client):
    response = client.post(
        reverse("account_signup"),
        {"email": "not-an-email", "password1": "short", "password2": "other"},
    )
    assert response.status_code == 200
    assert not User.objects.exists()


def test_repeated_failed_logins_lock_the_account_out(client):
    user = UserFactory()
    for _ in range(5):
        response = client.post(
            reverse("account_login"), {"login": user.email, "password": "wrong password"}
        )
        assert "Too many failed login attempts" not in response.content.decode()
    # Even the right password is refused while the lockout lasts: 429 with Retry-After.
    response = client.post(reverse("account_login"), {"login": user.email, "password": PASSWORD})
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assert "_auth_user_id" not in client.session


def test_sign_up_is_rate_limited(client, settings):
    for n in range(10):
        client.post(
            reverse("account_signup"),
            {"email": f"bot{n}@example.org", "password1": PASSWORD, "password2": PASSWORD},
        )
    response = client.post(
        reverse("account_signup"),
        {"email": "bot-last@example.org", "password1": PASSWORD, "password2": PASSWORD},
    )
    assert response.status_code == 429
    assert not User.objects.filter(email="bot-last@example.org").exists()


# --- applying -------------------------------------------------------------------------------


def test_application_requires_sign_in(client):
    response = client.get(reverse("members:apply"))
    assert response.status_code == 302
    assert reverse("account_login") in response["Location"]


def test_application_waits_for_screening_and_mails_no_member(
    client, members, django_capture_on_commit_callbacks
):
    applicant = UserFactory()
    client.force_login(applicant)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("members:apply"), APPLICATION)
    organization = Organization.objects.get(name="Vilnius Emigre Center")
    assert response.status_code == 302
    assert response["Location"] == organization.get_absolute_url()
    assert organization.memberships.get().user == applicant
    assert organization.status == Organization.Status.SCREENING
    assert not Decision.objects.exists()
    assert mail.outbox == []
    # The applicant sees where the application stands; the public does not see it yet.
    page = client.get(organization.get_absolute_url())
    assert "awaiting screening" in page.content.decode()
    client.logout()
    assert client.get(organization.get_absolute_url()).status_code == 404


def test_second_application_while_one_is_pending_is_refused_clearly(client):
    applicant = UserFactory()
    client.force_login(applicant)
    client.post(reverse("members:apply"), APPLICATION)
    response = client.post(reverse("members:apply"), {**APPLICATION, "name": "Second Org"})
    assert response.status_code == 200
    assert "You already have an application in progress (Vilnius Emigre Center)" in (
        response.content.decode()
    )
    assert not Organization.objects.filter(name="Second Org").exists()
    # The form says so before anything is typed, too.
    page = client.get(reverse("members:apply")).content.decode()
    assert "Your application for Vilnius Emigre Center is still in progress." in page


def _screen_url(organization: Organization) -> str:
    return reverse("admin:members_organization_screen", args=[organization.pk])


def test_staff_screen_in_an_application_and_members_are_mailed(
    client, members, django_capture_on_commit_callbacks
):
    organization = organization_apply(user=UserFactory(), **APPLICATION)
    staff = _staff_client(client)
    change = reverse("admin:members_organization_change", args=[organization.pk])
    assert _screen_url(organization) in client.get(change).content.decode()
    page = client.get(_screen_url(organization))
    assert page.status_code == 200
    assert "Help with residence permits." in page.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(_screen_url(organization), {"verdict": "admit", "reason": ""})
    assert response.status_code == 302
    organization.refresh_from_db()
    assert (organization.status, organization.screened_by) == ("applied", staff)
    assert Decision.objects.filter(organization=organization, status="open").exists()
    assert {m.to[0] for m in mail.outbox} == {m.contact_email for m in members}
    assert {m.subject for m in mail.outbox} == {  # the members work in Russian first
        "Решение коалиции открыто для голосования: Приём в коалицию"
    }


def test_staff_must_give_a_reason_to_turn_an_application_away(client, members):
    organization = organization_apply(user=UserFactory(), **APPLICATION)
    _staff_client(client)
    response = client.post(_screen_url(organization), {"verdict": "reject", "reason": "  "})
    assert response.status_code == 400
    assert "Give the applicant a reason" in response.content.decode()
    organization.refresh_from_db()
    assert organization.status == Organization.Status.SCREENING
    assert organization.screened_at is None

    response = client.post(
        _screen_url(organization), {"verdict": "reject", "reason": "No such organization."}
    )
    assert response.status_code == 302
    organization.refresh_from_db()
    assert organization.status == Organization.Status.REJECTED
    assert not Decision.objects.exists()
    # The applicant reads the reason on the organization's page; nobody else sees the page.
    client.force_login(organization.memberships.get().user)
    page = client.get(organization.get_absolute_url()).content.decode()
    assert "Rejected in screening: No such organization." in page
    client.logout()
    assert client.get(organization.get_absolute_url()).status_code == 404


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("name", "", "This field is required"),
        ("name", "x" * 121, "at most 120 characters"),
        ("website", "javascript:alert(1)", "Enter a valid URL"),
        ("website", "not a url", "Enter a valid URL"),
        ("contact_email", "nobody@", "Enter a valid email address"),
        ("mission", "m" * 2001, "at most 2000 characters"),
        ("country_of_registration", "XX", "Select a valid choice"),
        ("languages", ["xx"], "Select a valid choice"),
        ("legal_status", "", "This field is required"),
    ],
)
def test_bad_application_input_is_rejected_with_a_clear_message(client, field, value, message):
    client.force_login(UserFactory())
    response = client.post(reverse("members:apply"), {**APPLICATION, field: value})
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Organization.objects.exists()
    assert not Decision.objects.exists()


def test_duplicate_organization_name_is_rejected(client):
    OrganizationFactory(name="Vilnius Emigre Center")
    client.force_login(UserFactory())
    response = client.post(reverse("members:apply"), APPLICATION)
    assert "already applied" in response.content.decode()
    assert Organization.objects.count() == 1


def test_applications_are_rate_limited_per_person(client, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "org_apply": "2/h"}
    client.force_login(UserFactory())
    for n in range(2):
        client.post(reverse("members:apply"), {**APPLICATION, "name": f"Org {n}"})
    response = client.post(reverse("members:apply"), {**APPLICATION, "name": "Org 3"})
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assert not Organization.objects.filter(name="Org 3").exists()


def test_form_without_csrf_token_is_refused(members):
    csrf_client = Client(enforce_csrf_checks=True)
    csrf_client.force_login(UserFactory())
    response = csrf_client.post(reverse("members:apply"), APPLICATION)
    assert response.status_code == 403
    assert "expired" in response.content.decode()
    assert not Organization.objects.filter(name=APPLICATION["name"]).exists()


# --- voting ---------------------------------------------------------------------------------


def _vote_url(decision):
    return reverse("members:decision", args=[decision.pk])


def test_admin_with_two_factor_votes_for_the_organization(client, members):
    decision = _open_admission()
    client.force_login(members[0].memberships.get().user)
    page = client.get(_vote_url(decision))
    assert "Cast your organization" in page.content.decode()
    response = client.post(
        _vote_url(decision), {"organization": members[0].slug, "choice": "agree"}
    )
    assert response.status_code == 302
    assert Vote.objects.get(decision=decision).organization == members[0]


def test_admin_without_two_factor_is_sent_to_set_it_up(client, members):
    decision = _open_admission()
    admin = make_admin(members[1], mfa=False)
    client.force_login(admin)
    response = client.post(
        _vote_url(decision), {"organization": members[1].slug, "choice": "agree"}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("mfa_activate_totp")
    assert not Vote.objects.exists()


@pytest.mark.parametrize("role", [Membership.Role.EDITOR, Membership.Role.VIEWER])
def test_non_admin_cannot_vote(client, members, role):
    decision = _open_admission()
    client.force_login(make_member(members[0], role))
    response = client.post(
        _vote_url(decision), {"organization": members[0].slug, "choice": "agree"}
    )
    assert response.status_code == 403
    assert not Vote.objects.exists()


def test_admin_cannot_vote_for_another_organization(client, members):
    decision = _open_admission()
    client.force_login(members[0].memberships.get().user)
    response = client.post(
        _vote_url(decision), {"organization": members[1].slug, "choice": "agree"}
    )
    assert response.status_code == 403
    assert not Vote.objects.exists()


def test_staff_cannot_vote(client, members):
    decision = _open_admission()
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    response = client.post(
        _vote_url(decision), {"organization": members[0].slug, "choice": "agree"}
    )
    assert response.status_code == 403
    assert not Vote.objects.exists()


def test_anonymous_vote_is_sent_to_sign_in(client, members):
    decision = _open_admission()
    response = client.post(
        _vote_url(decision), {"organization": members[0].slug, "choice": "agree"}
    )
    assert response.status_code == 302
    assert reverse("account_login") in response["Location"]
    assert not Vote.objects.exists()


def test_block_without_reason_shows_an_error(client, members):
    decision = _open_admission()
    client.force_login(members[0].memberships.get().user)
    response = client.post(
        _vote_url(decision), {"organization": members[0].slug, "choice": "block", "reason": ""}
    )
    assert response.status_code == 400
    assert "needs a reason" in response.content.decode()
    assert not Vote.objects.exists()


def test_vote_after_deadline_shows_an_error(client, members):
    decision = _open_admission()
    Decision.objects.filter(pk=decision.pk).update(deadline=decision.opened_at)
    client.force_login(members[0].memberships.get().user)
    response = client.post(
        _vote_url(decision), {"organization": members[0].slug, "choice": "agree"}
    )
    assert response.status_code == 400
    assert "closed" in response.content.decode()
    assert not Vote.objects.exists()


# --- team -----------------------------------------------------------------------------------


def test_admin_invites_a_colleague_who_joins(client, members, django_capture_on_commit_callbacks):
    admin = members[0].memberships.get().user
    client.force_login(admin)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("members:team", args=[members[0].slug]),
            {"email": "colleague@example.org", "role": "editor"},
        )
    assert response.status_code == 302
    token_url = re.search(r"http://testserver(/invitations/\S+/)", mail.outbox[-1].body)
    assert token_url is not None
    colleague = UserFactory(email="colleague@example.org")
    client.force_login(colleague)
    assert client.post(token_url.group(1)).status_code == 302
    assert Membership.objects.get(user=colleague).role == Membership.Role.EDITOR


def test_invalid_invitation_email_is_rejected(client, members):
    client.force_login(members[0].memberships.get().user)
    response = client.post(
        reverse("members:team", args=[members[0].slug]), {"email": "nope", "role": "editor"}
    )
    assert response.status_code == 200
    assert "Enter a valid email address" in response.content.decode()
    assert not members[0].invitations.exists()


def test_viewer_cannot_manage_the_team(client, members):
    client.force_login(make_member(members[0], Membership.Role.VIEWER))
    response = client.get(reverse("members:team", args=[members[0].slug]))
    assert response.status_code == 403


def test_last_admin_cannot_leave_through_the_page(client, members):
    membership = members[0].memberships.get()
    client.force_login(membership.user)
    response = client.post(
        reverse("members:membership_remove", args=[members[0].slug, membership.pk]), follow=True
    )
    assert "last admin" in response.content.decode()
    assert Membership.objects.filter(pk=membership.pk).exists()


def test_tampered_invitation_token_shows_invalid_page(client):
    response = client.get(reverse("members:invitation", args=["forged-token"]))
    assert response.status_code == 200
    assert "no longer valid" in response.content.decode()


def test_decision_title_and_result_are_shown_in_the_readers_language(client, members):
    from members.services import decision_close

    decision = _open_admission()
    decision_close(decision=decision, now=decision.deadline)  # nobody voted: no quorum
    decision.refresh_from_db()
    assert decision.outcome_reason.startswith("No quorum")  # the stored record is English
    client.cookies["django_language"] = "ru"
    html = client.get(reverse("members:decision", args=[decision.pk])).content.decode()
    assert "Applicant Org" in html
    assert "Admit Applicant Org" not in html and "No quorum" not in html
