"""A newcomer's first visit, in a real browser: sign up, confirm the email, apply to join."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from playwright.sync_api import Page, expect
from pytest_django.live_server_helper import LiveServer

from members.models import Decision, Membership, Organization, User
from members.services import organization_screen
from tests.factories import PASSWORD, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

EMAIL = "newcomer@riga-help.example.org"
NEW_PASSWORD = "violet lantern orbit 42"
# A fixed, well-known name so a person can look at the profile after a run.
PROFILE_SCREENSHOT = "/tmp/e2e-profile.png"  # noqa: S108
CONFIRM_LINK = re.compile(r"https?://[^\s<>\"]+/accounts/confirm-email/[^\s<>\"]+/")


def _submit(page: Page, field_name: str) -> None:
    """Click the submit button of the form that holds ``field_name`` (the header has forms too)."""
    page.locator(f"form:has([name='{field_name}']) [type='submit']").click()


def _confirmation_link(live_server: LiveServer) -> str:
    messages = [message for message in mail.outbox if EMAIL in message.to]
    assert len(messages) == 1, [message.subject for message in mail.outbox]
    links = CONFIRM_LINK.findall(messages[0].body)
    assert len(links) == 1, messages[0].body
    assert links[0].startswith(live_server.url + "/"), links[0]
    return links[0]


def _fill_application(page: Page, *, website: str) -> None:
    page.fill("[name='name']", "Riga Help Desk")
    page.select_option("[name='country_of_registration']", "LV")
    # A checkbox list with a filter box (static/js/checklist.js), not a Ctrl-click multi-select.
    page.get_by_label("Filter the list").fill("latv")
    expect(page.get_by_label("Estonia", exact=True)).to_be_hidden()
    page.get_by_label("Latvia", exact=True).check()
    page.get_by_label("Filter the list").fill("esto")
    page.get_by_label("Estonia", exact=True).check()
    expect(page.get_by_label("Latvia", exact=True)).to_be_visible()  # checked ones stay shown
    page.fill("[name='website']", website)
    page.fill("[name='mission']", "We help emigres open bank accounts and renew documents.")
    page.check("[name='languages'][value='ru']")
    page.check("[name='languages'][value='en']")
    page.select_option("[name='legal_status']", "ngo")
    page.fill("[name='funding_disclosure']", "Member fees and small private donations.")
    page.fill("[name='contact_email']", "board@riga-help.example.org")


def test_newcomer_signs_up_confirms_email_and_applies_to_join(
    page: Page, live_server: LiveServer
) -> None:
    page.goto("/")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    page.get_by_role("link", name="Sign up", exact=True).click()
    expect(page).to_have_url(re.compile(r"/accounts/signup/$"))

    page.fill("[name='email']", EMAIL)
    page.fill("[name='password1']", NEW_PASSWORD)
    page.fill("[name='password2']", NEW_PASSWORD)
    _submit(page, "password1")

    expect(page.get_by_role("heading", level=1)).to_have_text("Verify Your Email Address")
    user = User.objects.get(email=EMAIL)
    assert not EmailAddress.objects.get(user=user, email=EMAIL).verified
    # Mandatory verification: not signed in before the link is followed.
    expect(page.get_by_role("button", name="Sign out")).to_have_count(0)

    page.goto(_confirmation_link(live_server))
    expect(page.get_by_role("heading", level=1)).to_have_text("Confirm Email Address")
    page.get_by_role("button", name="Confirm", exact=True).click()

    # ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION: confirming signs the newcomer in.
    expect(page).to_have_url(re.compile(r"/dashboard/$"))
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    assert EmailAddress.objects.get(user=user, email=EMAIL).verified

    page.get_by_role("link", name="Apply to admit an organization").click()
    expect(page).to_have_url(re.compile(r"/organizations/apply/$"))

    # First attempt with a website that is not a URL: the form comes back, nothing is written.
    _fill_application(page, website="not a url")
    _submit(page, "website")
    website_field = page.locator(".field", has=page.locator("#id_website"))
    expect(website_field).to_have_class(re.compile(r"\bhas-error\b"))
    expect(website_field.locator(".error")).to_have_text("Enter a valid URL.")
    # Screen readers announce the error with the field, not only somewhere on the page.
    expect(page.locator("#id_website")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#id_website")).to_have_accessible_description(
        re.compile("Enter a valid URL.")
    )
    expect(page.get_by_role("alert")).to_contain_text("Please correct the errors below.")
    assert not Organization.objects.exists()
    # What was typed is kept, so only the website needs fixing.
    expect(page.locator("[name='name']")).to_have_value("Riga Help Desk")
    expect(page.locator("[name='languages'][value='ru']")).to_be_checked()

    page.fill("[name='website']", "https://riga-help.example.org/")
    _submit(page, "website")

    organization = Organization.objects.get()
    expect(page).to_have_url(re.compile(rf"/members/{organization.slug}/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Riga Help Desk")
    expect(page.locator("[role=status] > ul.messages")).to_contain_text("Application received.")
    # Nobody is mailed and nothing is public until platform staff have screened it.
    expect(page.locator(".badge")).to_have_text("Awaiting screening")
    expect(page.locator(".notice")).to_contain_text("Your application is awaiting screening.")
    assert organization.status == Organization.Status.SCREENING
    assert not Decision.objects.exists()
    organization_screen(organization=organization, by=UserFactory(is_staff=True), admit=True)
    organization.refresh_from_db()

    page.reload()
    expect(page.locator(".badge")).to_have_text("Applied")
    decision = Decision.objects.get(organization=organization)
    vote_link = page.get_by_role("link", name="admission vote in progress")
    expect(vote_link).to_have_attribute("href", decision.get_absolute_url())
    expect(page.locator(".facts")).to_contain_text("Latvia")
    expect(page.locator(".facts")).to_contain_text("Estonia")
    page.screenshot(path=PROFILE_SCREENSHOT, full_page=True)

    assert organization.status == Organization.Status.APPLIED
    assert organization.website == "https://riga-help.example.org/"
    assert sorted(organization.languages) == ["en", "ru"]
    assert Membership.objects.filter(
        user=user, organization=organization, role=Membership.Role.ADMIN
    ).exists()
    assert decision.kind == Decision.Kind.ADMIT_MEMBER
    assert decision.status == Decision.Status.OPEN

    vote_link.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Riga Help Desk")


def test_language_form_switches_the_page_to_russian(page: Page) -> None:
    page.goto("/")
    expect(page.locator("html")).to_have_attribute("lang", "en")

    page.get_by_role("button", name="Русский", exact=True).click()

    expect(page.locator("html")).to_have_attribute("lang", "ru")
    expect(page.get_by_role("button", name="English", exact=True)).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    expect(page.locator("footer")).to_be_visible()

    # The choice sticks (it is a cookie), and is not limited to the page it was made on.
    page.goto("/decisions/")
    expect(page.locator("html")).to_have_attribute("lang", "ru")


def test_sign_in_form_works_without_javascript(new_page: Callable[..., Page]) -> None:
    user = UserFactory()
    page = new_page(java_script_enabled=False)

    page.goto("/accounts/login/")
    page.fill("[name='login']", user.email)
    page.fill("[name='password']", "not the password")
    _submit(page, "password")

    expect(page).to_have_url(re.compile(r"/accounts/login/$"))
    expect(page.locator("form:has([name='password'])")).to_contain_text(
        "The email address and/or password you specified are not correct."
    )
    expect(page.get_by_role("button", name="Sign out")).to_have_count(0)

    page.fill("[name='login']", user.email)
    page.fill("[name='password']", PASSWORD)
    _submit(page, "password")

    expect(page).to_have_url(re.compile(r"/dashboard/$"))
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
