"""An emigre signs a petition in Russian, in a real browser, with every real part running.

The browser signs on the live server; the confirmation leaves through the outbox, Redis and a
real Celery worker to an SMTP server on loopback; the worker's beat folds the confirmed count.
A second signature with the same address (typed in capitals) must not count again.
"""

from __future__ import annotations

import re
import time
from datetime import timedelta
from email.header import decode_header, make_header
from email.message import Message
from email.utils import getaddresses

import pytest
import redis
from django.conf import LazySettings
from playwright.sync_api import Page, expect
from pytest_django.live_server_helper import LiveServer

from campaigns import pow, services
from campaigns.models import Campaign, Petition, Signature, SignatureCountDelta
from campaigns.signing import email_digest, token_make
from outbox.models import Email
from tests.campaigns.conftest import LiveCampaign
from tests.e2e.conftest import BrowserLog
from tests.integration import conftest as integration

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True),
]

# The loopback SMTP server of the integration tests (fixtures live in that folder's conftest).
smtp_server = integration.smtp_server

NAME = "Мария Иванова"
PUBLIC_NAME = "Мария И."  # "first name and initial"
EMAIL = "maria.ivanova@example.org"
# The same mailbox as typed by someone else (or by her, on a phone with caps lock on).
EMAIL_OTHER_CASE = "MARIA.IVANOVA@EXAMPLE.ORG"
CAMPAIGN_TITLE_RU = "Банковские счета для всех"
TITLE_RU = "Не закрывайте наши банковские счета"
TEXT_RU = "Мы просим Европейскую комиссию добиться, чтобы банки соблюдали закон."
# Signers already counted before the test signs: 4 and 5 take different Russian plural forms.
EARLIER_SIGNERS = [
    ("Olga Petrova", Signature.Display.FULL_NAME),
    ("Ivan Smirnov", Signature.Display.FIRST_NAME_INITIAL),
    ("Pavel Kozlov", Signature.Display.ANONYMOUS),
    ("Elena Popova", Signature.Display.ANONYMOUS),
]
# Messages from locale/ru/LC_MESSAGES/django.po (msgid in the comment).
RU_SIGN = "Подписать петицию"  # Sign the petition
RU_NAME = "Ваше имя"  # Your name
RU_EMAIL = "Электронная почта"  # Email
RU_COUNTRY = "Страна проживания"  # Country where you live
RU_FIRST_NAME_INITIAL = "Имя и первая буква фамилии"  # First name and initial
RU_CHECK_EMAIL = "Проверьте почту"  # Check your email
RU_CONFIRM_HEADING = "Подтвердите подпись"  # Confirm your signature
RU_CONFIRM_BUTTON = "Подтвердить подпись"  # Confirm my signature
RU_CONFIRMED = "Спасибо! Ваша подпись подтверждена."  # Thank you! Your signature is confirmed.
RU_RECENT = "Недавно подписали:"  # Recently signed:
RU_CONFIRM_SUBJECT = f"Подтвердите подпись: {TITLE_RU}"  # Confirm your signature: %(title)s
RU_ALREADY_SUBJECT = f"Вы уже подписали петицию «{TITLE_RU}»"  # You have already signed ...
RU_COUNT_4 = "подтверждённые подписи — цель 100"  # confirmed signatures — goal %(goal)s
RU_COUNT_5 = "подтверждённых подписей — цель 100"

CONFIRM_LINK = re.compile(r"https?://[^\s<>\"]+/signatures/confirm/[^/\s<>\"]+/")
SCREENSHOT = "/tmp/e2e-sign-ru.png"  # noqa: S108 - a fixed name, so a person can look at it
# Bounds, not expectations: each wait ends as soon as its condition holds.
WORKER_WAIT = 30.0  # a cold worker boots, then beat's 2 s schedules run
POW_WAIT = 30.0
CHALLENGE_ENDPOINT = "/petitions/pow-challenge/"


# --- helpers ----------------------------------------------------------------------------------


def _seed_earlier_signers(petition: Petition) -> None:
    """Confirmed signatures already folded into the count, and their mail dropped unsent."""
    for n, (name, display) in enumerate(EARLIER_SIGNERS):
        signature = services.signature_create(
            petition=petition,
            name=name,
            email=f"earlier{n}@example.org",
            country="LV",
            display=display,
        )
        assert signature is not None
        services.signature_confirm(token=token_make(signature.pk, "confirm"))
    while services.signature_counts_fold():
        pass
    # Nothing queued so far (these signers' mail, the co-sponsors' invitations) is sent.
    Email.objects.all().delete()


def _fold_period(settings: LazySettings) -> float:
    return float(settings.CELERY_BEAT_SCHEDULE["signature-counts"]["schedule"])


def _shown_count(page: Page) -> int:
    return int(page.locator(".stats .count strong").inner_text().strip())


def _wait_for_shown_count(page: Page, expected: int, timeout: float = WORKER_WAIT) -> None:
    """Reload until the petition page shows ``expected`` (the count is folded asynchronously)."""
    deadline = time.monotonic() + timeout
    while True:
        shown = _shown_count(page)
        if shown == expected:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"the page shows {shown} confirmed signatures, not {expected}")
        time.sleep(0.5)
        page.reload()


def _wait_for_proof_of_work(page: Page) -> None:
    """Wait for the ALTCHA widget to post its solution into the form's hidden input.

    Polled from Python: Playwright's wait_for_function evaluates a string, which our CSP
    (no 'unsafe-eval') refuses in the page.
    """
    solution = page.locator("form.sign-form input[name='altcha']")
    deadline = time.monotonic() + POW_WAIT
    while time.monotonic() < deadline:
        if solution.count() == 1 and solution.input_value():
            return
        time.sleep(0.2)
    state = page.locator("altcha-widget [data-state]").first.get_attribute("data-state")
    raise AssertionError(f"the proof of work did not finish (widget state: {state})")


def _fill_sign_form(page: Page, *, email: str) -> None:
    # Labels end with Django's label suffix (":"), hence no exact match.
    page.get_by_label(RU_NAME).fill(NAME)  # focusing a field starts the proof of work
    page.get_by_label(RU_EMAIL).fill(email)
    page.get_by_label(RU_COUNTRY).select_option("DE")
    page.get_by_label(RU_FIRST_NAME_INITIAL).check()
    # Nothing else is ticked: contact consent is opt-in, one box per co-sponsor.
    consents = page.locator("form.sign-form input[name^='consent_']")
    expect(consents).to_have_count(2)
    for consent in consents.all():
        expect(consent).not_to_be_checked()
    _wait_for_proof_of_work(page)


def _recipients(message: Message) -> list[str]:
    return [address.lower() for _name, address in getaddresses(message.get_all("To", []))]


def _subject(message: Message) -> str:
    return str(make_header(decode_header(message["Subject"])))


def _text(message: Message) -> str:
    """The plain-text body, whatever transfer encoding (base64, quoted-printable) it came in."""
    part = next(p for p in message.walk() if p.get_content_type() == "text/plain")
    payload = part.get_payload(decode=True)
    assert isinstance(payload, bytes)
    return payload.decode(part.get_content_charset() or "utf-8")


def _mail_to(messages: list[Message], address: str) -> list[Message]:
    return [m for m in messages if address in _recipients(m)]


def _outbox_to(address: str) -> list[Email]:
    # Compared in Python: the recipient may be stored encrypted, which SQL cannot match.
    return [email for email in Email.objects.order_by("pk") if email.to.lower() == address]


# --- the test ---------------------------------------------------------------------------------


@pytest.fixture
def real_services(settings: LazySettings) -> None:
    """PostgreSQL and Redis, or a skip (a failure in CI) before any page opens.

    Asked for first: a skip after ``page`` was set up would fail its teardown check that the
    browser made requests.
    """
    integration._require_services()
    # Our own Redis database: broker, rate-limit counters and used proof-of-work challenges.
    redis.Redis.from_url(settings.REDIS_URL).flushdb()


def test_emigre_signs_in_russian_confirms_by_email_and_counts_once(
    real_services: None,
    page: Page,
    browser_log: BrowserLog,
    live_server: LiveServer,
    live: LiveCampaign,
    smtp_server: tuple[integration.Inbox, int],
    settings: LazySettings,
) -> None:
    page.set_default_timeout(10_000)
    inbox, smtp_port = smtp_server
    petition = live.petition
    # A campaign written in both languages, as the demo ones are.
    Campaign.objects.filter(pk=live.campaign.pk).update(
        title_ru=CAMPAIGN_TITLE_RU, summary_ru=CAMPAIGN_TITLE_RU
    )
    Petition.objects.filter(pk=petition.pk).update(title_ru=TITLE_RU, text_ru=TEXT_RU)
    _seed_earlier_signers(petition)
    before = len(EARLIER_SIGNERS)
    # The confirmation link is written into the email by the web request that queues it (the
    # worker only sends the stored text), so the live server's SITE_URL is the one that matters;
    # the worker gets the same value for any mail it renders itself (reminders).
    settings.SITE_URL = live_server.url

    with integration.run_worker(
        redis_url=settings.REDIS_URL,
        smtp_port=smtp_port,
        extra_env={"COALITION_SITE_URL": live_server.url},
    ):
        # The language button in the header; the choice is a cookie, so it holds on every page.
        page.goto("/")
        page.get_by_role("button", name="Русский", exact=True).click()
        expect(page.locator("html")).to_have_attribute("lang", "ru")
        expect(page.get_by_role("button", name="English", exact=True)).to_be_visible()

        page.goto(petition.get_absolute_url())
        expect(page.locator("html")).to_have_attribute("lang", "ru")
        expect(page.get_by_role("heading", level=1)).to_have_text(TITLE_RU)
        expect(page.get_by_role("link", name=CAMPAIGN_TITLE_RU)).to_be_visible()
        expect(page.get_by_role("button", name=RU_SIGN, exact=True)).to_be_visible()
        expect(page.locator(".stats .count")).to_contain_text(RU_COUNT_4)
        assert _shown_count(page) == before

        _fill_sign_form(page, email=EMAIL)
        page.get_by_role("button", name=RU_SIGN, exact=True).click()

        expect(page).to_have_url(re.compile(rf"/petitions/{petition.slug}/sent/$"))
        expect(page.get_by_role("heading", level=1)).to_have_text(RU_CHECK_EMAIL)
        signature = Signature.objects.get(petition=petition, email_digest=email_digest(EMAIL))
        assert signature.status == Signature.Status.PENDING
        assert signature.name == NAME
        assert signature.language == "ru"
        assert signature.display == Signature.Display.FIRST_NAME_INITIAL
        assert signature.country == "DE"
        assert not signature.consents.exists()

        messages = inbox.wait_for(lambda msgs: bool(_mail_to(msgs, EMAIL)), timeout=WORKER_WAIT)
        [confirmation] = _mail_to(messages, EMAIL)
        assert _subject(confirmation) == RU_CONFIRM_SUBJECT
        body = _text(confirmation)
        assert f"Спасибо, что подписали петицию «{TITLE_RU}»." in body, body
        links = CONFIRM_LINK.findall(body)
        assert len(links) == 1, body
        assert links[0].startswith(live_server.url + "/"), links[0]

        # A GET only shows the button (mail scanners follow links); the POST confirms.
        page.goto(links[0])
        expect(page.get_by_role("heading", level=1)).to_have_text(RU_CONFIRM_HEADING)
        page.get_by_role("button", name=RU_CONFIRM_BUTTON, exact=True).click()

        expect(page).to_have_url(re.compile(rf"/petitions/{petition.slug}/$"))
        expect(page.locator("[role=status] > ul.messages")).to_contain_text(RU_CONFIRMED)
        _wait_for_shown_count(page, before + 1)
        expect(page.locator(".stats .count")).to_contain_text(RU_COUNT_5)
        # The most recent confirmed signer comes first, shown as she chose.
        expect(page.locator(".stats")).to_contain_text(f"{RU_RECENT} {PUBLIC_NAME}")

        # The same mailbox again, in capitals: looks like success, but nothing new is counted.
        _fill_sign_form(page, email=EMAIL_OTHER_CASE)
        page.get_by_role("button", name=RU_SIGN, exact=True).click()
        expect(page.get_by_role("heading", level=1)).to_have_text(RU_CHECK_EMAIL)
        at_least_until = time.monotonic() + 2 * _fold_period(settings)
        # A fold that takes this marker (delta 0: it changes no count) has also taken anything
        # the second signature may have queued before it, as deltas are folded in id order.
        marker = SignatureCountDelta.objects.create(petition=petition, country="DE", delta=0)
        integration.wait_until(
            lambda: not SignatureCountDelta.objects.filter(pk=marker.pk).exists(),
            timeout=WORKER_WAIT,
        )
        # Whatever the second attempt queued for her (at most an "already signed" notice; the
        # resend cooldown may hold even that back) has been through the worker by now.
        integration.wait_until(
            lambda: all(
                email.status in {Email.Status.SENT, Email.Status.FAILED}
                for email in _outbox_to(EMAIL)
            ),
            timeout=WORKER_WAIT,
        )
        time.sleep(max(0.0, at_least_until - time.monotonic()))

        page.goto(petition.get_absolute_url())
        assert _shown_count(page) == before + 1
        expect(page.locator(".stats")).to_contain_text(f"{RU_RECENT} {PUBLIC_NAME}")
        page.screenshot(path=SCREENSHOT, full_page=True)

    later = _mail_to(inbox.messages, EMAIL)[1:]
    assert len(later) <= 1, [_subject(m) for m in later]
    assert all(_subject(m) == RU_ALREADY_SUBJECT for m in later), [_subject(m) for m in later]
    assert [email.status for email in _outbox_to(EMAIL)] == [Email.Status.SENT] * (1 + len(later))
    assert (
        Signature.objects.filter(petition=petition, email_digest=email_digest(EMAIL)).count() == 1
    )
    assert email_digest(EMAIL_OTHER_CASE) == email_digest(EMAIL)
    assert Signature.objects.filter(petition=petition).count() == before + 1
    petition.refresh_from_db()
    assert petition.confirmed_count == before + 1
    # Each page carried its own proof-of-work challenge: the widget never had to fetch one.
    assert not [url for url in browser_log.requests if CHALLENGE_ENDPOINT in url]


def test_a_page_left_open_past_its_challenge_fetches_a_fresh_one_and_signs(
    real_services: None,
    page: Page,
    browser_log: BrowserLog,
    live_server: LiveServer,
    live: LiveCampaign,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """static/js/altcha.js treats a challenge with less than a minute left as expired."""
    page.set_default_timeout(10_000)
    page.context.add_cookies([{"name": "django_language", "value": "ru", "url": live_server.url}])
    # The live server runs in this process: its pages now carry challenges that expire in 30 s.
    monkeypatch.setattr(pow, "EXPIRES_AFTER", timedelta(seconds=30))
    page.goto(live.petition.get_absolute_url())
    assert not [url for url in browser_log.requests if CHALLENGE_ENDPOINT in url]
    _fill_sign_form(page, email="late.reader@example.org")  # waits for the solution
    assert [url for url in browser_log.requests if CHALLENGE_ENDPOINT in url]
    page.get_by_role("button", name=RU_SIGN, exact=True).click()
    # A payload that failed verification would put the form back with an error instead.
    expect(page).to_have_url(re.compile(rf"/petitions/{live.petition.slug}/sent/$"))
    assert live.petition.signatures.count() == 1
