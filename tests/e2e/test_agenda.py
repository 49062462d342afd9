"""Issue 13's emigre agenda in a real browser, in Russian.

An emigre proposes a problem and confirms it from the mail; a moderator of a member organization
(two-factor sign-in) publishes it; two more emigres support it and confirm, which reaches the
threshold: every member organization's admin is mailed and the proposal shows as awaiting the
coalition's answer with its due date. The moderator's organization adopts it with a campaign, and
the supporters who asked to hear are told, once each, with one-click unsubscribe and the erasure
link. Nobody's address is ever shown on a page.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from urllib.parse import urlsplit

import pytest
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.conf import LazySettings
from playwright.sync_api import Page, expect

from agenda import services
from agenda.models import Proposal
from campaigns.models import Campaign
from members.models import Membership
from outbox.models import Email
from tests.factories import PASSWORD, MemberOrganizationFactory, make_admin, make_member, totp_code

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PROPOSER = "vera.sokolova@example.org"
SUPPORTERS = ("oleg.morozov@example.net", "irina.lebedeva@example.com")
TITLE = "Нотариусы в Риге не заверяют доверенности для граждан России"
DESCRIPTION = "Без доверенности нельзя продать квартиру или оформить наследство в России."
CAMPAIGN = "Доверенности для всех, кто живёт в Латвии"
POW_WAIT = 60.0
# Messages from locale/ru/LC_MESSAGES/django.po (msgid in the comment).
RU_PROPOSE = "Предложить проблему"  # Propose a problem
RU_SEND = "Отправить предложение"  # Send the proposal
RU_CHECK_MAIL = "Проверьте почту"  # Check your email
RU_CONFIRM_PROPOSAL = "Подтвердить предложение"  # Confirm my proposal
RU_CONFIRM_SUPPORT = "Подтвердить поддержку"  # Confirm my support
RU_TELL_ME = "Сообщить мне по почте, когда коалиция ответит"
RU_AWAITING = "Ждёт ответа коалиции"  # Awaiting the coalition's answer
RU_ADOPT = "Мы берём это в работу и начинаем кампанию"  # We adopt it and start a campaign


def _wait_for_proof_of_work(page: Page) -> None:
    solution = page.locator("form input[name='altcha']")
    deadline = time.monotonic() + POW_WAIT
    while time.monotonic() < deadline:
        if solution.count() == 1 and solution.input_value():
            return
        time.sleep(0.2)
    raise AssertionError("the proof of work did not finish")


def _confirm_path(email: str, kind: str) -> str:
    mail = Email.objects.filter(kind=kind, recipient_digest=services.email_digest(email)).last()
    assert mail is not None and mail.to == email
    assert "/privacy/erase/" in mail.body_text  # the erasure link in every mail
    found = re.search(r"https?://\S+/agenda/confirm/\S+/", mail.body_text)
    assert found is not None
    return urlsplit(found.group(0)).path  # the mail names the public site


def _support(page: Page, proposal: Proposal, email: str) -> None:
    page.goto(proposal.get_absolute_url())
    page.get_by_label("Электронная почта").fill(email)  # Email
    page.get_by_label(RU_TELL_ME).check()
    _wait_for_proof_of_work(page)
    page.get_by_role("button", name="Поддержать", exact=True).click()  # Support
    expect(page.get_by_role("heading", name=RU_CHECK_MAIL)).to_be_visible()
    page.goto(_confirm_path(email, "agenda.support_confirm"))
    page.get_by_role("button", name=RU_CONFIRM_SUPPORT).click()
    expect(page.locator("ul.messages")).to_contain_text("Ваша поддержка подтверждена")


def test_emigre_proposes_supporters_confirm_members_are_told_one_adopts_supporters_hear(
    new_page: Callable[..., Page], settings: LazySettings
) -> None:
    settings.AGENDA_SUPPORT_THRESHOLD = 3  # the proposer and two supporters
    riga = MemberOrganizationFactory(name="Рижский центр помощи")
    berlin = MemberOrganizationFactory(name="Берлинский форум")
    admin = make_member(riga, Membership.Role.ADMIN, mfa=False)
    secret = generate_totp_secret()
    TOTP.activate(admin, secret)
    other_admin = make_admin(berlin)

    # --- the emigre proposes, in Russian, without an account ---
    page = new_page(locale="ru-RU")
    page.goto("/")
    page.get_by_role("link", name=RU_PROPOSE).first.click()
    page.get_by_label("Проблема в одной строке").fill(TITLE)
    page.get_by_label("Что происходит и кого это касается").fill(DESCRIPTION)
    page.get_by_label("Тема:", exact=True).select_option("documents")  # Issue area
    page.locator("fieldset.checklist").get_by_label("Латвия", exact=True).check()
    page.get_by_label("Электронная почта").fill(PROPOSER)
    page.get_by_label(RU_TELL_ME).check()
    _wait_for_proof_of_work(page)
    page.get_by_role("button", name=RU_SEND).click()
    expect(page.get_by_role("heading", name=RU_CHECK_MAIL)).to_be_visible()
    proposal = Proposal.objects.get()
    assert proposal.status == Proposal.Status.UNCONFIRMED
    page.goto(_confirm_path(PROPOSER, "agenda.proposal_confirm"))
    page.get_by_role("button", name=RU_CONFIRM_PROPOSAL).click()
    expect(page.locator("ul.messages")).to_contain_text("Ваше предложение подтверждено")
    expect(page.locator("main")).not_to_contain_text(TITLE)  # not public before moderation

    # --- a moderator of a member organization, two-factor, publishes it ---
    moderator = new_page(locale="ru-RU")
    moderator.goto("/accounts/login/")
    moderator.fill("[name='login']", admin.email)
    moderator.fill("[name='password']", PASSWORD)
    moderator.locator("form:has([name='password']) [type='submit']").click()
    moderator.fill("[name='code']", totp_code(secret))
    moderator.get_by_role("button", name="Войти").click()  # Sign In
    moderator.goto(f"/organizations/{riga.slug}/agenda/")
    review = moderator.locator(f"#review-{proposal.pk}")
    expect(review).to_contain_text(TITLE)
    review.get_by_label("Опубликовать").check()  # Publish
    review.get_by_role("button", name="Сохранить решение").click()  # Save the decision
    expect(moderator.locator("ul.messages")).to_contain_text("Предложение опубликовано")

    # --- two more emigres support it; the third confirmed support reaches the threshold ---
    for email in SUPPORTERS:
        _support(new_page(locale="ru-RU"), proposal, email)
    proposal.refresh_from_db()
    assert proposal.status == Proposal.Status.AWAITING and proposal.support_count == 3
    told = set(Email.objects.filter(kind="agenda.submitted").values_list("to", flat=True))
    assert told == {admin.email, other_admin.email}
    page.goto(proposal.get_absolute_url())
    expect(page.locator("main")).to_contain_text(RU_AWAITING)
    expect(page.locator("#support-count")).to_have_text("3")
    for address in (PROPOSER, *SUPPORTERS):
        expect(page.locator("main")).not_to_contain_text(address)

    # --- the moderator's organization adopts it with a campaign ---
    moderator.goto(f"/organizations/{riga.slug}/agenda/{proposal.pk}/answer/")
    moderator.get_by_label(RU_ADOPT).check()
    moderator.get_by_label("Название кампании").fill(CAMPAIGN)  # Campaign title
    moderator.get_by_label("Краткое описание кампании").fill("Добиваемся ясных правил.")
    moderator.get_by_role("button", name="Отправить ответ").click()  # Send the answer
    expect(moderator.locator("ul.messages")).to_contain_text("Взято в работу")
    proposal.refresh_from_db()
    campaign = Campaign.objects.get(title_ru=CAMPAIGN)
    assert (proposal.status, proposal.answered_by, proposal.campaign) == (
        Proposal.Status.ADOPTED,
        riga,
        campaign,
    )

    # --- the periodic job tells everyone who asked, once each ---
    assert services.answer_notices_send() == 3
    assert services.answer_notices_send() == 0
    answered = Email.objects.filter(kind="agenda.answered")
    assert sorted(answered.values_list("to", flat=True)) == sorted([PROPOSER, *SUPPORTERS])
    for mail in answered:
        assert mail.subject == f"Коалиция ответила: {TITLE}"
        assert "Рижский центр помощи" in mail.body_text
        assert mail.list_scope == f"agenda:{proposal.pk}" and mail.list_token
        assert "/u/" in mail.body_text and "/privacy/erase/" in mail.body_text

    page.goto("/")
    agenda = page.locator("#agenda")
    expect(agenda).to_contain_text(TITLE)
    expect(agenda).to_contain_text("Рижский центр помощи")
    page.goto(f"/members/{riga.slug}/")
    expect(page.locator("#agenda")).to_contain_text(TITLE)
