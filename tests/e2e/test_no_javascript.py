"""Issue 16 in a browser with JavaScript switched off (Tor Browser's "Safest" level): sign and
confirm a petition in Russian, send a letter, stop the campaign's updates. The no-JavaScript
cost is the real one (an aged, single-use form token, foundation/nojs.py); the conftest's
checks prove that nothing left the machine and the console stayed clean."""

from __future__ import annotations

import re
import time
from collections.abc import Callable

import pytest
from django.conf import LazySettings
from django.utils import timezone
from playwright.sync_api import Page, expect
from pytest_django.live_server_helper import LiveServer

from campaigns.models import Campaign, IssueArea, Petition, Signature
from campaigns.signing import email_digest, token_make
from evidence.models import CaseReport, Term
from outbox.models import Email, Suppression
from outbox.suppression import campaign_scope, list_token_for
from outreach.models import Letter, LetterCampaign
from tests.campaigns.conftest import LiveCampaign
from tests.e2e.conftest import BrowserLog

pytestmark = [pytest.mark.e2e, pytest.mark.nojs_cost, pytest.mark.django_db(transaction=True)]

EMAIL = "anna.tor@example.org"
TITLE_RU = "Не закрывайте наши банковские счета"
CONFIRM_LINK = re.compile(r"https?://[^\s<>\"]+/signatures/confirm/[^/\s<>\"]+/")
WAIT_SECONDS = 2


@pytest.fixture
def no_script(
    new_page: Callable[..., Page], live_server: LiveServer, settings: LazySettings
) -> Page:
    settings.SITE_URL = live_server.url
    settings.NOJS_MIN_SECONDS = WAIT_SECONDS  # the live server runs in this process
    page = new_page(java_script_enabled=False)
    page.set_default_timeout(10_000)
    return page


def _confirmation_link(address: str) -> str:
    mails = [m for m in Email.objects.order_by("pk") if m.to.lower() == address]
    assert mails, "no confirmation was queued"
    links = CONFIRM_LINK.findall(mails[-1].body_text)
    assert len(links) == 1, mails[-1].body_text
    return links[0]


def test_a_signer_without_javascript_signs_and_confirms_in_russian(
    no_script: Page, live_server: LiveServer, live: LiveCampaign
) -> None:
    page = no_script
    Petition.objects.filter(pk=live.petition.pk).update(title_ru=TITLE_RU, text_ru="Текст.")
    page.context.add_cookies([{"name": "django_language", "value": "ru", "url": live_server.url}])
    page.goto(live.petition.get_absolute_url())
    expect(page.locator("html")).to_have_attribute("lang", "ru")
    expect(page.get_by_role("heading", level=1)).to_have_text(TITLE_RU)
    page.get_by_label("Ваше имя").fill("Анна Смирнова")
    page.get_by_label("Электронная почта").fill(EMAIL)
    page.get_by_label("Страна проживания").select_option("DE")
    page.get_by_label("Имя и первая буква фамилии").check()
    time.sleep(WAIT_SECONDS + 0.5)  # a person reads and types for longer than this
    page.get_by_role("button", name="Подписать петицию", exact=True).click()

    expect(page).to_have_url(re.compile(rf"/petitions/{live.petition.slug}/sent/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Проверьте почту")
    signature = Signature.objects.get(email_digest=email_digest(EMAIL))
    assert signature.status == Signature.Status.PENDING and signature.language == "ru"

    page.goto(_confirmation_link(EMAIL))
    expect(page.get_by_role("heading", level=1)).to_have_text("Подтвердите подпись")
    page.get_by_role("button", name="Подтвердить подпись", exact=True).click()
    expect(page).to_have_url(re.compile(rf"/petitions/{live.petition.slug}/$"))
    expect(page.locator("ul.messages")).to_contain_text("Спасибо! Ваша подпись подтверждена.")
    signature.refresh_from_db()
    assert signature.status == Signature.Status.CONFIRMED


def test_a_signer_without_javascript_who_hurries_is_asked_to_send_again(
    no_script: Page, live: LiveCampaign, browser_log: BrowserLog
) -> None:
    page = no_script
    page.goto(live.petition.get_absolute_url())
    page.get_by_label("Your name").fill("Anna Smirnova")
    page.get_by_label("Email").fill(EMAIL)
    page.get_by_label("Country where you live").select_option("DE")
    page.get_by_role("button", name="Sign the petition", exact=True).click()  # at once
    expect(page.locator(".errorbox, .error").first).to_contain_text(
        "quicker than anyone can fill in this form"
    )
    assert not Signature.objects.exists()
    # What was typed is still there; waiting and sending again is all it takes.
    expect(page.get_by_label("Email")).to_have_value(EMAIL)
    time.sleep(WAIT_SECONDS + 0.5)
    page.get_by_role("button", name="Sign the petition", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your email")
    assert Signature.objects.count() == 1
    # The form shown again with its error answers 400, which the browser reports: expected.
    browser_log.console_errors[:] = [
        e for e in browser_log.console_errors if "status of 400 (Bad Request)" not in e
    ]


def test_a_signer_without_javascript_sends_a_letter(
    no_script: Page,
    live: LiveCampaign,
    letters: LetterCampaign,
    confirmed: Callable[..., Signature],
) -> None:
    page = no_script
    signature = confirmed(EMAIL)
    page.goto(f"/letters/{token_make(signature.pk, 'letter')}/")
    page.get_by_role("button", name="Send the letter", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Thank you")
    assert Letter.objects.filter(signature=signature).exists()


def test_a_signer_without_javascript_stops_the_campaigns_updates(
    no_script: Page, live: LiveCampaign, confirmed: Callable[..., Signature]
) -> None:
    page = no_script
    signature = confirmed(EMAIL)
    Signature.objects.filter(pk=signature.pk).update(wants_updates=True)
    campaign = Campaign.objects.get(pk=live.campaign.pk)
    token = list_token_for(digest=signature.email_digest, scope=campaign_scope(campaign.pk))
    page.goto(f"/u/{token}")
    page.get_by_role("button", name="Stop the updates about this campaign", exact=True).click()
    expect(page.locator("main")).not_to_contain_text("Stop the updates about this campaign")
    assert Suppression.objects.filter(
        digest=signature.email_digest, scope=campaign_scope(campaign.pk)
    ).exists()


def test_a_reporter_without_javascript_reports_a_case(
    no_script: Page, live: LiveCampaign, issue_area: IssueArea
) -> None:
    """The case-report form (evidence/, issue 13) pays the same no-JavaScript cost."""
    page = no_script
    terms = Term.objects.filter(issue_area=issue_area)
    institution = terms.get(vocabulary="institution", name_en="Swedbank")
    event = terms.get(vocabulary="event", name_en="Account frozen")
    page.goto(f"/cases/report/{issue_area.slug}/")
    form = page.locator("form", has=page.locator("input[name='email']"))
    form.locator("select[name='country']").select_option("LV")
    form.locator("select[name='institution']").select_option(str(institution.pk))
    form.locator("select[name='event']").select_option(str(event.pk))
    form.locator("[name='month']").select_option("3")
    form.locator("[name='year']").fill(str(timezone.localdate().year - 1))
    form.locator("input[name='email']").fill(EMAIL)
    time.sleep(WAIT_SECONDS + 0.5)
    form.locator("button[type='submit']").last.click()
    expect(page).to_have_url(re.compile(r"/cases/sent/$"))
    assert CaseReport.objects.filter(email_digest=email_digest(EMAIL)).exists()
