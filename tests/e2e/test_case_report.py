"""An emigre reports a frozen bank account in Russian; the evidence page counts it only with k.

In a real browser, in Russian: the emigre fills the bank-accounts form (a first try dated next
year is refused and writes nothing), the confirmation mail leaves through the outbox with the
erasure link, the emigre confirms from it, a moderator of a member organization signs in with
two-factor and verifies the report with a reason that lands in the moderation log, and the
public evidence page names Latvia only once five VERIFIED reports exist. Nobody's address is
ever shown.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from datetime import date
from urllib.parse import urlsplit

import pytest
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.conf import LazySettings
from django.utils import timezone
from playwright.sync_api import Page, expect

from campaigns.models import IssueArea
from evidence import services
from evidence.models import CaseReport, ModerationLog, Term
from members.models import Membership
from outbox.models import Email
from tests.e2e.conftest import BrowserLog
from tests.factories import PASSWORD, MemberOrganizationFactory, make_member, totp_code

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

EMAIL = "anna.kuznetsova@example.org"
ACCOUNT = "Анна Кузнецова, отделение на улице Бривибас: счёт заморозили без объяснений."
POW_WAIT = 60.0
# Messages from locale/ru/LC_MESSAGES/django.po (msgid in the comment).
RU_REPORT = "Сообщить о случае"  # report a case
RU_SEND = "Отправить сообщение"  # Send the report
RU_CHECK_MAIL = "Проверьте почту"  # Check your email
RU_FUTURE = "Год не может быть в будущем."  # The year cannot be in the future.
RU_CONFIRM = "Подтвердить сообщение"  # Confirm my report
RU_CONFIRMED = "Спасибо: ваше сообщение подтверждено"  # Thank you: your report is confirmed
RU_VERIFY = "Подтвердить: сообщение достоверно"  # Verify: the report is credible
RU_RECORD = "Записать"  # Record
RU_RECORDED = "Ваше решение записано в журнал модерации."


def _area() -> IssueArea:
    return IssueArea.objects.get(slug="bank-accounts")


def _term(vocabulary: str, name_en: str) -> Term:
    return Term.objects.get(issue_area=_area(), vocabulary=vocabulary, name_en=name_en)


def _confirmed_reports(n: int, start: int) -> None:
    """Other emigres' confirmed reports of the same kind (Latvia, Swedbank, frozen)."""
    for i in range(start, start + n):
        report = services.report_create(
            issue_area=_area(),
            email=f"earlier{i}@example.net",
            country="LV",
            month=date(2025, 2, 1),
            choices={
                "institution": _term("institution", "Swedbank"),
                "event": _term("event", "Account frozen"),
            },
            others={},
            documents=[],
        )
        assert report is not None
        services.report_confirm(token=services.token_make(report.pk, "confirm"))


def _wait_for_proof_of_work(page: Page) -> None:
    solution = page.locator("form.report-form input[name='altcha']")
    deadline = time.monotonic() + POW_WAIT
    while time.monotonic() < deadline:
        if solution.count() == 1 and solution.input_value():
            return
        time.sleep(0.2)
    raise AssertionError("the proof of work did not finish")


def _take_expected_bad_request(browser_log: BrowserLog) -> None:
    """Chromium logs the form's 400 answer as a console error; that one is expected."""
    rejected = [e for e in browser_log.console_errors if "status of 400" in e]
    assert len(rejected) == 1, browser_log.console_errors
    browser_log.console_errors.remove(rejected[0])


def _fill(page: Page, *, year: int, month: int) -> None:
    page.get_by_label("Страна, где это произошло").select_option("LV")
    page.get_by_label("Банк:", exact=True).select_option(label="Swedbank")
    page.get_by_label("Что произошло:", exact=True).select_option(label="Счёт заморожен")
    page.get_by_label("Месяц:", exact=True).select_option(str(month))
    page.get_by_label("Год:", exact=True).fill(str(year))
    page.get_by_label("Что произошло, своими словами").fill(ACCOUNT)
    page.get_by_label("Модератор может опубликовать").check()
    page.get_by_label("Электронная почта").fill(EMAIL)


def test_emigre_reports_a_frozen_account_confirms_and_a_moderator_verifies_it(
    new_page: Callable[..., Page],
    browser_log: BrowserLog,
    settings: LazySettings,
) -> None:
    settings.EVIDENCE_AS_OF_DAYS = 0  # live figures: the test cannot wait for tomorrow
    settings.EVIDENCE_MIN_CELL = 5
    organization = MemberOrganizationFactory(name="Рижский центр помощи")
    moderator = make_member(organization, Membership.Role.EDITOR, mfa=False)
    secret = generate_totp_secret()
    TOTP.activate(moderator, secret)
    _confirmed_reports(3, start=0)

    # --- the emigre, in Russian, without an account ---
    page = new_page(locale="ru-RU")
    page.goto("/cases/")
    page.get_by_role("link", name=RU_REPORT.lower()).first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Банковские счета")
    today = timezone.localdate()
    _fill(page, year=today.year + 1, month=today.month)
    page.get_by_role("button", name=RU_SEND).click()
    expect(page.locator(".errorbox")).to_be_visible()
    expect(page.get_by_text(RU_FUTURE)).to_be_visible()
    _take_expected_bad_request(browser_log)
    assert not CaseReport.objects.filter(email_digest=services.email_digest(EMAIL)).exists()

    _fill(page, year=today.year, month=today.month)
    _wait_for_proof_of_work(page)
    page.get_by_role("button", name=RU_SEND).click()
    expect(page.get_by_role("heading", name=RU_CHECK_MAIL)).to_be_visible()

    mail = Email.objects.get(kind="evidence.confirm", recipient_digest=services.email_digest(EMAIL))
    assert mail.to == EMAIL and mail.subject.startswith("Подтвердите")
    assert "/privacy/erase/" in mail.body_text
    confirm_url = re.search(r"https?://\S+/cases/confirm/\S+/", mail.body_text)
    assert confirm_url is not None
    page.goto(urlsplit(confirm_url.group(0)).path)  # the mail names the public site
    page.get_by_role("button", name=RU_CONFIRM).click()
    expect(page.get_by_role("heading", name=RU_CONFIRMED)).to_be_visible()

    # Four reports: Latvia stays unpublished, not even named.
    page.goto("/cases/evidence/bank-accounts/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Доказательства")
    expect(page.locator("table").first).not_to_contain_text("Латвия")
    expect(page.get_by_text(ACCOUNT)).to_have_count(0)

    # --- a moderator of a member organization, two-factor ---
    staff_page = new_page(locale="ru-RU")
    staff_page.goto("/accounts/login/")
    staff_page.fill("[name='login']", moderator.email)
    staff_page.fill("[name='password']", PASSWORD)
    staff_page.locator("form:has([name='password']) [type='submit']").click()
    staff_page.fill("[name='code']", totp_code(secret))
    staff_page.get_by_role("button", name="Войти").click()  # Sign In
    staff_page.goto(f"/organizations/{organization.slug}/cases/")
    report = CaseReport.objects.get(email_digest=services.email_digest(EMAIL))
    staff_page.get_by_role("link", name=f"#{report.pk}", exact=True).click()
    expect(staff_page.get_by_text(ACCOUNT)).to_have_count(0)  # read only with a reason
    staff_page.get_by_role("link", name="Прочитать слова автора").click()
    staff_page.get_by_label("Зачем вам нужно прочитать").fill("Чтобы написать публичную версию")
    staff_page.get_by_role("button", name="Показать рассказ").click()
    expect(staff_page.get_by_text(ACCOUNT)).to_be_visible()  # the private account, to review
    assert ModerationLog.objects.filter(action=ModerationLog.Action.ACCOUNT).count() == 1
    expect(staff_page.locator("main")).not_to_contain_text(EMAIL)  # never the address
    staff_page.get_by_label(RU_VERIFY).check()
    staff_page.get_by_label("Почему").fill("Письмо банка о заморозке видели")
    staff_page.get_by_label("Публичная версия").fill("Банк заморозил счёт без объяснений.")
    staff_page.get_by_role("button", name=RU_RECORD).click()
    expect(staff_page.get_by_text(RU_RECORDED)).to_be_visible()
    entry = ModerationLog.objects.get(action=ModerationLog.Action.VERIFY)
    assert (entry.user_id, entry.organization_id) == (moderator.pk, organization.pk)
    report.refresh_from_db()
    assert report.status == CaseReport.Status.VERIFIED

    # Still four: nothing published about Latvia.
    page.reload()
    expect(page.locator("table").first).not_to_contain_text("Латвия")

    # A fifth report, confirmed but nobody reviewed it: unreviewed reports name no cell (anyone
    # can make them up), so Latvia is still not named.
    _confirmed_reports(1, start=3)
    page.reload()
    expect(page.locator("table").first).not_to_contain_text("Латвия")

    # Moderators verify the four others: five verified reports name the cell.
    CaseReport.objects.filter(status=CaseReport.Status.CONFIRMED).update(
        status=CaseReport.Status.VERIFIED, verified_at=timezone.now()
    )
    page.reload()
    country_table = page.locator("table").first
    expect(country_table).to_contain_text("Латвия")
    latvia = country_table.locator("tr", has_text="Латвия")
    expect(latvia.locator("td").nth(0)).to_have_text("5")
    expect(latvia.locator("td").nth(1)).to_have_text("5")
    # The public version waits for a second organization's approval and a release batch.
    expect(page.get_by_text("Банк заморозил счёт без объяснений.")).to_have_count(0)
    expect(page.locator("main")).not_to_contain_text("Кузнецова")
    expect(page.locator("main")).not_to_contain_text(EMAIL)
