"""A co-sponsor's editor records what a campaign achieved; the public sees it on the record.

In a real browser: the editor signs in through the sign-in page, finds the campaign from the
organization's campaigns, records an outcome (a first attempt dated in the future is refused),
and lands on the public timeline. Then an anonymous visitor finds the campaign under "Under way"
on the results page and in the organization's public track record.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Locator, Page, expect

from campaigns.models import OutcomeEvent
from members.models import Membership
from tests.campaigns.conftest import LiveCampaign
from tests.e2e.conftest import BrowserLog
from tests.factories import PASSWORD, make_member

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

DESCRIPTION = "The central bank told banks that residence permits are valid ID for an account."
EVIDENCE = "https://bank.example.org/circulars/2025-17"
FUTURE_DESCRIPTION = "The minister will announce the new rules."
SCREENSHOT = "/tmp/e2e-results.png"  # noqa: S108 - a fixed name, so a person can look at it


def _submit(page: Page, field_name: str) -> None:
    """Click the submit button of the form that holds ``field_name`` (the header has forms too)."""
    page.locator(f"form:has([name='{field_name}']) [type='submit']").click()


def _sign_in(page: Page, email: str) -> None:
    page.goto("/")
    page.get_by_role("link", name="Sign in", exact=True).click()
    page.fill("[name='login']", email)
    page.fill("[name='password']", PASSWORD)
    _submit(page, "password")
    expect(page).to_have_url(re.compile(r"/dashboard/$"))
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()


def _fill_outcome(page: Page, *, kind: str, day: str, description: str) -> None:
    # Labels end with Django's label suffix (":"), hence no exact match.
    page.get_by_label("What happened").select_option(label=kind)
    page.get_by_label("Date").fill(day)  # a date input takes ISO dates whatever the locale
    page.get_by_label("Description (English)").fill(description)
    page.get_by_label("Evidence link").fill(EVIDENCE)


def _take_expected_bad_request(browser_log: BrowserLog, path: str) -> None:
    """Remove the one console error Chromium logs for the form coming back with status 400.

    Our views answer an invalid form with 400, and Chromium reports every 4xx document as a
    console error ("Failed to load resource"); that one is expected, any other still fails.
    """
    rejected = re.compile(
        r"^Failed to load resource: the server responded with a status of 400 \(Bad Request\) "
        rf"\(https?://[^/]+{re.escape(path)}\)$"
    )
    matching = [error for error in browser_log.console_errors if rejected.match(error)]
    assert len(matching) == 1, browser_log.console_errors
    browser_log.console_errors.remove(matching[0])


def _under_way(page: Page) -> Locator:
    """The result cards between the "Under way" heading and the next one."""
    return page.locator(
        "xpath=//article[contains(@class, 'result-card')]"
        "[preceding-sibling::h2[1][normalize-space() = 'Under way']]"
    )


def test_editor_records_an_outcome_and_the_public_sees_it_on_the_results_page(
    new_page: Callable[..., Page], browser_log: BrowserLog, live: LiveCampaign
) -> None:
    campaign = live.campaign
    # The co-sponsor that was invited, not the one that started the campaign: equal rights.
    organization = live.orgs[1]
    editor = make_member(organization, Membership.Role.EDITOR, mfa=False)
    events_before = set(campaign.events.values_list("pk", flat=True))
    today = timezone.localdate()

    page = new_page()
    page.set_default_timeout(10_000)
    _sign_in(page, editor.email)

    row = page.get_by_role("row", name=re.compile(organization.name))
    expect(row).to_contain_text("Editor")
    row.get_by_role("link", name="Campaigns", exact=True).click()
    expect(page).to_have_url(re.compile(rf"/organizations/{organization.slug}/campaigns/$"))
    page.get_by_role("link", name=campaign.title, exact=True).click()
    expect(page).to_have_url(
        re.compile(rf"/organizations/{organization.slug}/campaigns/{campaign.slug}/$")
    )
    expect(page.get_by_role("heading", level=1)).to_have_text(campaign.title)
    page.get_by_role("link", name="Record an outcome", exact=True).click()
    form_path = f"/organizations/{organization.slug}/campaigns/{campaign.slug}/outcomes/new/"
    expect(page).to_have_url(re.compile(rf"{re.escape(form_path)}$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Record an outcome")

    # Only a meeting may be announced ahead: a statement dated in a few days comes back, unsaved.
    # (Not "tomorrow": east of UTC that is already today, which the form rightly accepts.)
    tomorrow = (today + timedelta(days=3)).isoformat()
    _fill_outcome(page, kind="Public statement", day=tomorrow, description=FUTURE_DESCRIPTION)
    _submit(page, "kind")
    date_input = page.locator("#id_date")
    date_field = page.locator(".field", has=date_input)
    expect(date_field).to_have_class(re.compile(r"\bhas-error\b"))
    expect(date_field.locator(".error")).to_have_text("Only a meeting can be dated in the future.")
    expect(date_input).to_have_attribute("aria-invalid", "true")
    expect(date_input).to_have_accessible_description(
        re.compile("Only a meeting can be dated in the future.")
    )
    expect(page.get_by_role("alert")).to_contain_text("Please correct the errors below.")
    assert set(campaign.events.values_list("pk", flat=True)) == events_before
    # What was typed is kept, so only the date (or the kind) needs fixing.
    expect(page.get_by_label("Description (English)")).to_have_value(FUTURE_DESCRIPTION)
    expect(date_input).to_have_value(tomorrow)
    _take_expected_bad_request(browser_log, form_path)

    _fill_outcome(
        page, kind="Policy or rule changed", day=today.isoformat(), description=DESCRIPTION
    )
    _submit(page, "kind")

    expect(page).to_have_url(re.compile(rf"/campaigns/{campaign.slug}/$"))
    expect(page.locator("[role=status] > ul.messages")).to_contain_text(
        "Recorded. It is on the campaign's public timeline."
    )
    [event] = campaign.events.exclude(pk__in=events_before)
    assert event.kind == OutcomeEvent.Kind.POLICY_CHANGE
    assert event.date == today
    assert event.description_en == DESCRIPTION
    assert event.description_ru == ""
    assert event.evidence_url == EVIDENCE
    assert event.recorded_by == organization
    assert event.recorded_by_user == editor
    assert not event.system

    entry = page.locator(".timeline li.event", has_text=DESCRIPTION)
    expect(entry).to_have_count(1)
    expect(entry.locator("time")).to_have_attribute("datetime", today.isoformat())
    expect(entry).to_contain_text(f"Policy or rule changed · recorded by {organization.name}")
    expect(entry.get_by_role("link", name="evidence")).to_have_attribute("href", EVIDENCE)

    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("link", name="Sign in", exact=True)).to_be_visible()

    # A visitor who never signed in, in a browser of their own.
    visitor = new_page()
    visitor.set_default_timeout(10_000)
    visitor.goto("/")
    visitor.get_by_role("navigation", name="Main").get_by_role(
        "link", name="Results", exact=True
    ).click()
    expect(visitor).to_have_url(re.compile(r"/results/$"))
    expect(visitor.get_by_role("button", name="Sign out")).to_have_count(0)
    expect(visitor.get_by_role("heading", level=1)).to_have_text("What the coalition has done")
    expect(visitor.get_by_text("No campaign has been won yet.")).to_be_visible()
    card = _under_way(visitor)
    expect(card).to_have_count(1)
    expect(card.get_by_role("heading", level=3)).to_have_text(campaign.title)
    excerpt = card.locator("ol.events li", has_text=DESCRIPTION)
    expect(excerpt).to_have_count(1)
    expect(excerpt.locator("time")).to_have_attribute("datetime", today.isoformat())
    expect(card).not_to_contain_text(FUTURE_DESCRIPTION)
    visitor.screenshot(path=SCREENSHOT, full_page=True)

    card.get_by_role("link", name=campaign.title, exact=True).click()
    expect(visitor).to_have_url(re.compile(rf"/campaigns/{campaign.slug}/$"))
    visitor.get_by_role("link", name=organization.name, exact=True).click()
    expect(visitor).to_have_url(re.compile(rf"/members/{organization.slug}/$"))
    expect(visitor.get_by_role("heading", level=1)).to_have_text(organization.name)
    record = visitor.locator("section.record")
    expect(record.get_by_role("heading", level=2)).to_have_text("Track record")
    record_link = record.get_by_role("link", name=campaign.title, exact=True)
    expect(record_link).to_have_attribute("href", campaign.get_absolute_url())
    expect(record.get_by_role("listitem").filter(has_text=campaign.title)).to_contain_text("Live")
