"""Case reports: reporting without an account, confirming by email, moderation, the evidence
pages' small-cell rule, erasure, retention and evidence summaries frozen when sent."""

from __future__ import annotations

import json
import re
from datetime import date, timedelta
from typing import Any

import pytest
from django.conf import LazySettings
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from campaigns.models import IssueArea, OutcomeEvent
from campaigns.signing import digest_from_token, digest_token
from evidence import aggregates, selectors, services
from evidence.models import (
    CaseDesk,
    CaseReport,
    EvidenceSummary,
    ModerationLog,
    ReportConsent,
    Term,
)
from members.models import Membership
from outbox.models import Email
from outreach import services as outreach_services
from tests.factories import make_member

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _live_figures(settings: LazySettings) -> None:
    settings.EVIDENCE_AS_OF_DAYS = 0  # figures as of now: the tests need not wait a day
    settings.EVIDENCE_MIN_CELL = 5


def _term(area: IssueArea, vocabulary: str, name_en: str) -> Term:
    return Term.objects.get(issue_area=area, vocabulary=vocabulary, name_en=name_en)


def _post(area: IssueArea, **overrides: Any) -> dict[str, Any]:
    data = {
        "country": "LV",
        "institution": str(_term(area, "institution", "Swedbank").pk),
        "event": str(_term(area, "event", "Account frozen").pk),
        "month": "3",
        "year": str(timezone.localdate().year - 1),
        "email": "maria@example.org",
        "account": "",
    }
    data.update(overrides)
    return data


def _report(area: IssueArea, client: Client, **overrides: Any) -> Any:
    return client.post(reverse("evidence:report", args=[area.slug]), _post(area, **overrides))


def _make(
    area: IssueArea,
    *,
    n: int = 1,
    country: str = "LV",
    bank: str = "Swedbank",
    email: str = "r{i}@example.org",
    status: str = CaseReport.Status.CONFIRMED,
    **extra: Any,
) -> list[CaseReport]:
    reports = []
    for i in range(n):
        report = services.report_create(
            issue_area=area,
            email=email.format(i=i),
            country=country,
            month=date(2025, 3, 1),
            choices={
                "institution": _term(area, "institution", bank),
                "event": _term(area, "event", "Account frozen"),
            },
            others={},
            documents=[],
            **extra,
        )
        assert report is not None
        if status != CaseReport.Status.PENDING:
            report = services.report_confirm(token=services.token_make(report.pk, "confirm"))
        if status in {CaseReport.Status.VERIFIED, CaseReport.Status.REJECTED}:
            CaseReport.objects.filter(pk=report.pk).update(
                status=status,
                moderated_at=timezone.now(),
                verified_at=timezone.now() if status == CaseReport.Status.VERIFIED else None,
                rejected_at=timezone.now() if status == CaseReport.Status.REJECTED else None,
            )
        reports.append(report)
    return reports


# --- reporting ----------------------------------------------------------------------------------


def test_a_report_waits_for_the_emailed_link_and_the_mail_has_the_erasure_link(
    client: Client, issue_area: IssueArea
) -> None:
    response = _report(issue_area, client, account="They froze it after my permit renewal.")

    assert response.status_code == 302, response.content.decode()[:2000]
    report = CaseReport.objects.get()
    assert report.status == CaseReport.Status.PENDING
    assert report.email == "maria@example.org"  # encrypted at rest, never in plain text
    mail = Email.objects.get(kind="evidence.confirm")
    link = re.search(r"/cases/confirm/([^/\s]+)/", mail.body_text)
    assert link is not None
    assert services.token_read(link.group(1), "confirm", None) == report.pk
    erase = re.search(r"/privacy/erase/([^/\s]+)/", mail.body_text)
    assert erase is not None and digest_from_token(erase.group(1)) == report.email_digest
    assert aggregates.area_tables(issue_area=issue_area)["tables"]["country"] == []


def test_following_the_link_shows_a_button_and_only_the_post_confirms(
    client: Client, issue_area: IssueArea
) -> None:
    (report,) = _make(issue_area, status=CaseReport.Status.PENDING)
    url = reverse("evidence:confirm", args=[services.token_make(report.pk, "confirm")])

    assert client.get(url).status_code == 200
    report.refresh_from_db()
    assert report.status == CaseReport.Status.PENDING
    assert client.post(url).status_code == 200
    report.refresh_from_db()
    assert report.status == CaseReport.Status.CONFIRMED
    assert client.post(reverse("evidence:confirm", args=["forged"])).status_code == 400


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"year": str(timezone.localdate().year + 1)}, "cannot be in the future"),
        ({"year": "1990"}, "Only cases since"),
        ({"year": "abc"}, "Enter a whole number"),
        ({"month": "13"}, "Select a valid choice"),
        ({"event": ""}, "This field is required"),
        ({"event": "other", "event_other": ""}, "Describe it"),
        ({"event_other": "Something else"}, "Choose “Other” above"),
        ({"institution": "999999"}, "Select a valid choice"),
        ({"email": "not-an-address"}, "valid email"),
        ({"account": "see https://example.org/me"}, "Plain text only"),
        ({"publish_account": "on", "account": ""}, "Write your account first"),
        ({"country": "XX"}, "Select a valid choice"),
    ],
)
def test_bad_input_gets_a_clear_error_and_writes_nothing(
    client: Client, issue_area: IssueArea, overrides: dict[str, str], message: str
) -> None:
    response = _report(issue_area, client, **overrides)

    assert response.status_code == 400
    assert message in response.content.decode()
    assert not CaseReport.objects.exists()
    assert not Email.objects.exists()


def test_the_current_month_is_accepted_and_next_month_is_refused(
    client: Client, issue_area: IssueArea
) -> None:
    today = timezone.localdate()
    later = (today.replace(day=28) + timedelta(days=5)).replace(day=1)
    if later.year == today.year:
        response = _report(issue_area, client, month=str(later.month), year=str(later.year))
        assert response.status_code == 400
        assert "cannot be in the future" in response.content.decode()
    response = _report(issue_area, client, month=str(today.month), year=str(today.year))
    assert response.status_code == 302


def test_a_retired_entry_cannot_be_chosen_but_old_reports_keep_it(
    client: Client, issue_area: IssueArea
) -> None:
    (old,) = _make(issue_area)
    swedbank = _term(issue_area, "institution", "Swedbank")
    Term.objects.filter(pk=swedbank.pk).update(retired_at=timezone.now())

    response = _report(issue_area, client, email="other@example.org")

    assert response.status_code == 400
    old.refresh_from_db()
    assert old.institution_id == swedbank.pk
    with pytest.raises(Exception, match="protected"):
        swedbank.delete()


def test_a_consent_goes_only_to_an_organization_that_takes_up_cases(
    client: Client, live: Any, issue_area: IssueArea
) -> None:
    alpha, beta = live.orgs
    CaseDesk.objects.create(organization=alpha, issue_area=issue_area)

    page = client.get(reverse("evidence:report", args=[issue_area.slug])).content.decode()
    assert f"consent_{alpha.slug}" in page and f"consent_{beta.slug}" not in page
    _report(issue_area, client, **{f"consent_{alpha.slug}": "on", f"consent_{beta.slug}": "on"})

    assert list(ReportConsent.objects.values_list("organization", flat=True)) == [alpha.pk]


def test_the_honeypot_looks_like_success_and_writes_nothing(
    client: Client, issue_area: IssueArea
) -> None:
    response = _report(issue_area, client, website="http://spam.example.com")
    assert response.status_code == 302
    assert not CaseReport.objects.exists()


# --- the published figures --------------------------------------------------------------------


def _rows(area: IssueArea, dimension: str) -> dict[str, Any]:
    table = aggregates.area_tables(issue_area=area)["tables"][dimension]
    return {row["key"]: row for row in table}


def test_a_cell_is_published_only_once_it_has_k_verified_reports(issue_area: IssueArea) -> None:
    _make(issue_area, n=4, status=CaseReport.Status.VERIFIED)
    assert "LV" not in _rows(issue_area, "country")
    assert aggregates.area_tables(issue_area=issue_area)["reported_total"] is None

    _make(issue_area, n=3, email="u{i}@example.org")  # confirmed, nobody reviewed them
    assert "LV" not in _rows(issue_area, "country")  # unreviewed reports name no cell

    _make(issue_area, n=1, email="fifth@example.org", status=CaseReport.Status.VERIFIED)

    assert _rows(issue_area, "country")["LV"]["reported"] == 8
    assert _rows(issue_area, "country")["LV"]["verified"] == 5


def test_small_cells_are_merged_unnamed_so_totals_cannot_recover_them(
    issue_area: IssueArea,
) -> None:
    _make(issue_area, n=6, country="LV", status=CaseReport.Status.VERIFIED)
    _make(issue_area, n=2, country="EE", email="ee{i}@example.org")

    rows = _rows(issue_area, "country")
    data = aggregates.area_tables(issue_area=issue_area)

    assert "EE" not in rows  # not even named
    assert rows[aggregates.SMALL]["reported"] is None  # 2 < k: not published either
    assert data["reported_total"] == 8
    # Only one-dimensional tables, nothing per person.
    assert set(data["tables"]) == {"country", "institution", "event", "month"}
    assert "r0@example.org" not in json.dumps(data)


def test_rejected_and_pending_reports_do_not_count_and_verified_are_shown_apart(
    issue_area: IssueArea,
) -> None:
    _make(issue_area, n=5, status=CaseReport.Status.VERIFIED)
    _make(issue_area, n=3, email="p{i}@example.org", status=CaseReport.Status.PENDING)
    _make(issue_area, n=3, email="x{i}@example.org", status=CaseReport.Status.REJECTED)

    row = _rows(issue_area, "country")["LV"]
    assert (row["reported"], row["verified"]) == (5, 5)


def test_figures_are_taken_at_the_start_of_the_day(
    settings: LazySettings, issue_area: IssueArea
) -> None:
    settings.EVIDENCE_AS_OF_DAYS = 1
    _make(issue_area, n=5, status=CaseReport.Status.VERIFIED)  # today: tomorrow's figures
    assert "LV" not in _rows(issue_area, "country")
    yesterday = timezone.now() - timedelta(days=1)
    CaseReport.objects.update(confirmed_at=yesterday)
    assert "LV" not in _rows(issue_area, "country")  # verified today: still tomorrow's
    CaseReport.objects.update(verified_at=yesterday)
    assert _rows(issue_area, "country")["LV"]["reported"] == 5


def test_the_page_and_open_data_show_the_same_suppressed_tables(
    client: Client, issue_area: IssueArea
) -> None:
    _make(issue_area, n=5, status=CaseReport.Status.VERIFIED)
    _make(issue_area, n=1, country="EE", bank="SEB", email="e@example.org")

    page = client.get(reverse("evidence:evidence", args=[issue_area.slug])).content.decode()
    data = client.get(reverse("evidence:data", args=[issue_area.slug, "json"])).json()
    csv_text = client.get(reverse("evidence:data", args=[issue_area.slug, "csv"])).content.decode()

    assert "Latvia" in page and "<svg" in page and "<table" in page
    assert "Estonia" not in page and "SEB" not in page
    assert [r["key"] for r in data["tables"]["country"]] == ["LV", aggregates.SMALL]
    assert "EE" not in csv_text and "LV" in csv_text
    assert client.get(reverse("evidence:data", args=[issue_area.slug, "xml"])).status_code == 404


# --- moderation -------------------------------------------------------------------------------


def test_verifying_is_logged_and_the_redacted_text_is_published_only_if_allowed(
    client: Client, live: Any, issue_area: IssueArea
) -> None:
    alpha = live.orgs[0]
    editor = make_member(alpha, Membership.Role.EDITOR)
    (allowed,) = _make(
        issue_area, account="Ivan Petrov, Swedbank Riga, 12 March.", publish_account=True
    )
    (private,) = _make(issue_area, email="q@example.org", account="My name is Olga.")

    with pytest.raises(services.EvidenceError, match="did not allow"):
        services.report_moderate(
            report=private, organization=alpha, user=editor, action="verify", reason="checked",
            redacted="A person...",
        )  # fmt: skip
    with pytest.raises(services.EvidenceError, match="yourself"):
        services.report_moderate(report=allowed, organization=alpha, user=editor, action="verify",
                                 reason="checked", redacted=allowed.account)  # fmt: skip
    with pytest.raises(services.EvidenceError, match="Say why"):
        services.report_moderate(report=allowed, organization=alpha, user=editor,
                                 action="verify", reason="")  # fmt: skip
    services.report_moderate(
        report=allowed, organization=alpha, user=editor, action="verify",
        reason="Bank letter seen", redacted="A bank froze the account.",
    )  # fmt: skip
    page = client.get(reverse("evidence:evidence", args=[issue_area.slug])).content.decode()
    assert "A bank froze the account." not in page  # not approved by a second organization
    services.report_moderate(report=allowed, organization=live.orgs[1],
                             user=make_member(live.orgs[1], Membership.Role.EDITOR),
                             action="approve", reason="No names left")  # fmt: skip
    CaseReport.objects.filter(pk=allowed.pk).update(account_released_at=timezone.now())

    log = list(ModerationLog.objects.values_list("action", "organization", "user", "reason"))
    assert (ModerationLog.Action.VERIFY, alpha.pk, editor.pk, "Bank letter seen") in log
    page = client.get(reverse("evidence:evidence", args=[issue_area.slug])).content.decode()
    assert "A bank froze the account." in page
    assert "Ivan Petrov" not in page and "Olga" not in page


def test_a_viewer_or_a_suspended_organization_cannot_moderate(
    live: Any, issue_area: IssueArea
) -> None:
    alpha = live.orgs[0]
    viewer = make_member(alpha, Membership.Role.VIEWER)
    (report,) = _make(issue_area)
    with pytest.raises(services.EvidenceError, match="role"):
        services.report_moderate(report=report, organization=alpha, user=viewer,
                                 action="verify", reason="ok ok")  # fmt: skip
    alpha.status = alpha.Status.SUSPENDED
    alpha.save()
    with pytest.raises(services.EvidenceError, match="member organizations"):
        services.report_moderate(report=report, organization=alpha, user=live.admins[0],
                                 action="verify", reason="ok ok")  # fmt: skip
    report.refresh_from_db()
    assert report.status == CaseReport.Status.CONFIRMED
    assert not ModerationLog.objects.exists()


def test_a_moderator_sees_the_address_only_where_the_reporter_consented(
    live: Any, issue_area: IssueArea
) -> None:
    alpha, beta = live.orgs
    CaseDesk.objects.create(organization=alpha, issue_area=issue_area)
    (report,) = _make(issue_area, consents=[alpha])

    with pytest.raises(services.EvidenceError, match="did not allow"):
        services.report_contact(report=report, organization=beta, user=live.admins[1],
                                reason="curious")  # fmt: skip
    email = services.report_contact(
        report=report, organization=alpha, user=live.admins[0], reason="to help with a complaint"
    )
    assert email == "r0@example.org"
    assert ModerationLog.objects.get().action == ModerationLog.Action.CONTACT


def test_the_reporter_s_other_answers_are_read_only_with_a_logged_reason(
    client: Client, live: Any, issue_area: IssueArea
) -> None:
    """An "other (describe)" answer is the reporter's own words too: the report's page says one
    was given, and it is shown, like the account, only after a reason that is logged."""
    alpha, _beta = live.orgs
    report = services.report_create(
        issue_area=issue_area,
        email="other@example.org",
        country="LV",
        month=date(2025, 3, 1),
        choices={"event": _term(issue_area, "event", "Account frozen")},
        others={"institution": "the Narva branch, manager Olga K."},
        documents=[],
    )
    assert report is not None
    report = services.report_confirm(token=services.token_make(report.pk, "confirm"))
    client.force_login(live.admins[0])
    detail = client.get(reverse("evidence:report_review", args=[alpha.slug, report.pk]))
    url = reverse("evidence:account", args=[alpha.slug, report.pk])
    asked = client.get(url)

    for response in (detail, asked):
        assert response.status_code == 200
        assert "Narva" not in response.content.decode()
    assert url in detail.content.decode()
    assert not ModerationLog.objects.exists()

    shown = client.post(url, {"reason": "to add the bank to the list"})

    assert "the Narva branch, manager Olga K." in shown.content.decode()
    entry = ModerationLog.objects.get()
    assert (entry.action, entry.report_id, entry.reason) == (
        ModerationLog.Action.ACCOUNT, report.pk, "to add the bank to the list"
    )  # fmt: skip


def test_reading_the_reporter_s_own_words_needs_a_reason_and_is_logged(
    client: Client, live: Any, issue_area: IssueArea
) -> None:
    alpha, beta = live.orgs
    (report,) = _make(issue_area, account="Ivan at the Riga branch froze it.")
    client.force_login(live.admins[0])
    url = reverse("evidence:account", args=[alpha.slug, report.pk])

    detail = client.get(reverse("evidence:report_review", args=[alpha.slug, report.pk]))
    asked = client.get(url)
    refused = client.post(url, {"reason": " "})

    assert url in detail.content.decode()
    for response in (detail, asked, refused):
        assert "Riga branch" not in response.content.decode()
    assert refused.status_code == 400
    assert not ModerationLog.objects.exists()

    shown = client.post(url, {"reason": "to write the public version"})

    assert shown.status_code == 200
    assert "Ivan at the Riga branch froze it." in shown.content.decode()
    entry = ModerationLog.objects.get()
    assert (entry.action, entry.report_id, entry.organization_id, entry.user_id, entry.reason) == (
        ModerationLog.Action.ACCOUNT, report.pk, alpha.pk, live.admins[0].pk,
        "to write the public version",
    )  # fmt: skip
    # Every member organization's moderators see who read it, when and why.
    client.force_login(live.admins[1])
    log = client.get(reverse("evidence:log", args=[beta.slug])).content.decode()
    assert "to write the public version" in log and alpha.name in log
    viewer = make_member(alpha, Membership.Role.VIEWER)
    with pytest.raises(services.EvidenceError, match="role"):
        services.report_account_read(report=report, organization=alpha, user=viewer,
                                     reason="curious")  # fmt: skip
    assert ModerationLog.objects.count() == 1


def test_the_reporter_withdraws_one_organization_s_consent_from_the_mailed_link(
    client: Client, live: Any, issue_area: IssueArea
) -> None:
    alpha, beta = live.orgs
    for organization in (alpha, beta):
        CaseDesk.objects.create(organization=organization, issue_area=issue_area)
    (report,) = _make(issue_area, consents=[alpha, beta], status=CaseReport.Status.PENDING)
    mail = Email.objects.get(kind="evidence.confirm")
    link = re.search(r"/cases/consents/([^/\s]+)/", mail.body_text)
    assert link is not None and alpha.name in mail.body_text and beta.name in mail.body_text
    url = reverse("evidence:consents", args=[link.group(1)])
    confirmed = client.post(
        reverse("evidence:confirm", args=[services.token_make(report.pk, "confirm")])
    )
    assert url in confirmed.content.decode()  # and from the page that confirms the report
    report.refresh_from_db()

    page = client.get(url).content.decode()
    assert alpha.name in page and beta.name in page and "r0@example.org" not in page
    assert client.post(url, {"organization": "nope"}).status_code == 400
    withdrawn = client.post(url, {"organization": alpha.slug})

    assert withdrawn.status_code == 200
    assert "can no longer look up your address" in withdrawn.content.decode()
    consents = ReportConsent.objects.filter(report=report)
    assert list(consents.values_list("organization", flat=True)) == [beta.pk]
    with pytest.raises(services.EvidenceError, match="did not allow"):
        services.report_contact(report=report, organization=alpha, user=live.admins[0],
                                reason="a follow-up")  # fmt: skip
    assert services.report_contact(report=report, organization=beta, user=live.admins[1],
                                   reason="a follow-up") == "r0@example.org"  # fmt: skip
    assert client.post(url, {"organization": alpha.slug}).status_code == 400  # gone already
    # The link is the reporter's own: a confirmation token, or a forged one, is refused.
    for token in (services.token_make(report.pk, "confirm"), "forged"):
        assert client.get(reverse("evidence:consents", args=[token])).status_code == 400
    assert consents.count() == 1


def test_the_moderation_pages_never_show_the_address(
    client: Client, live: Any, issue_area: IssueArea
) -> None:
    alpha = live.orgs[0]
    (report,) = _make(issue_area, account="They froze it.")
    client.force_login(live.admins[0])

    queue = client.get(reverse("evidence:moderation", args=[alpha.slug])).content.decode()
    detail = client.get(reverse("evidence:report_review", args=[alpha.slug, report.pk]))

    assert f"#{report.pk}" in queue
    assert "They froze it." not in detail.content.decode()  # read only with a logged reason
    assert "r0@example.org" not in queue + detail.content.decode()
    response = client.post(
        reverse("evidence:report_review", args=[alpha.slug, report.pk]),
        {"action": "verify", "reason": ""},
    )
    assert response.status_code == 400
    report.refresh_from_db()
    assert report.status == CaseReport.Status.CONFIRMED


def test_moderators_add_and_retire_entries_with_a_logged_reason(
    client: Client, live: Any, issue_area: IssueArea
) -> None:
    alpha = live.orgs[0]
    client.force_login(live.admins[0])
    url = reverse("evidence:terms", args=[alpha.slug])
    data = {"issue_area": issue_area.slug, "vocabulary": "institution", "name_en": "Bank X",
            "name_ru": "Банк X", "reason": "three reports named it"}  # fmt: skip

    assert client.post(url, {**data, "name_ru": ""}).status_code == 400
    assert client.post(url, {**data, "name_en": "Swedbank"}).status_code == 400
    assert client.post(url, data).status_code == 302
    term = Term.objects.get(name_en="Bank X")
    retire = reverse("evidence:term_retire", args=[alpha.slug])
    assert client.post(retire, {"term": term.pk, "reason": ""}).status_code == 400
    assert client.post(retire, {"term": term.pk, "reason": "duplicate"}).status_code == 302
    term.refresh_from_db()
    assert term.retired_at is not None
    assert list(ModerationLog.objects.order_by("pk").values_list("action", flat=True)) == [
        ModerationLog.Action.TERM_ADD,
        ModerationLog.Action.TERM_RETIRE,
    ]


# --- erasure and retention ----------------------------------------------------------------------


def test_the_erasure_link_deletes_the_reports_and_keeps_the_log_without_them(
    client: Client, live: Any, issue_area: IssueArea
) -> None:
    (report,) = _make(issue_area, email="Maria.Ivanova+x@example.org")
    _make(issue_area, email="someone.else@example.org")
    services.report_moderate(report=report, organization=live.orgs[0], user=live.admins[0],
                             action="verify", reason="checked")  # fmt: skip

    client.post(reverse("privacy:erase", args=[digest_token(report.email_digest)]))

    assert list(CaseReport.objects.values_list("email", flat=True)) == ["someone.else@example.org"]
    entry = ModerationLog.objects.get()
    assert entry.report is None and entry.report_number == report.pk


def test_retention_purges_unconfirmed_rejected_and_stale_reports_and_strips_old_contacts(
    settings: LazySettings, issue_area: IssueArea
) -> None:
    (pending,) = _make(issue_area, status=CaseReport.Status.PENDING, email="a{i}@example.org")
    (rejected,) = _make(issue_area, status=CaseReport.Status.REJECTED, email="b{i}@example.org")
    (verified,) = _make(issue_area, status=CaseReport.Status.VERIFIED, email="c{i}@example.org",
                        account="words")  # fmt: skip
    (fresh,) = _make(issue_area, email="d{i}@example.org")
    later = timezone.now() + timedelta(days=400)
    CaseReport.objects.filter(pk=fresh.pk).update(confirmed_at=later - timedelta(days=1))

    services.reports_purge(now=later)

    assert set(CaseReport.objects.values_list("pk", flat=True)) == {verified.pk, fresh.pk}
    verified.refresh_from_db()
    assert (verified.email, verified.account) == ("", "")
    assert pending.pk and rejected.pk  # gone, see above


# --- evidence summaries ---------------------------------------------------------------------


def test_a_summary_attached_to_a_delivery_is_frozen_when_sent_and_linked_from_the_timeline(
    client: Client, live: Any, contacts: Any, issue_area: IssueArea
) -> None:
    alpha = live.orgs[0]
    _make(issue_area, n=5, status=CaseReport.Status.VERIFIED)
    delivery = outreach_services.delivery_prepare(petition=live.petition, targets=contacts[:1])
    client.force_login(live.admins[0])
    url = reverse("evidence:summaries", args=[alpha.slug])

    assert (
        client.post(url, {"target": "delivery:999999", "issue_area": issue_area.slug}).status_code
        == 400
    )
    response = client.post(
        url, {"target": f"delivery:{delivery.pk}", "issue_area": issue_area.slug}
    )
    assert response.status_code == 302
    summary = EvidenceSummary.objects.get()
    assert client.get(reverse("evidence:summary", args=[summary.pk])).status_code == 404

    _make(
        issue_area, n=5, email="late{i}@example.org", status=CaseReport.Status.VERIFIED
    )  # before sending: counted
    from outreach.models import PetitionDelivery

    PetitionDelivery.objects.filter(pk=delivery.pk).update(status=PetitionDelivery.Status.SENT)
    from campaigns.services import outcome_system

    outcome = outcome_system(
        campaign_id=live.campaign.pk,
        kind=OutcomeEvent.Kind.PETITION_DELIVERED,
        description_en="Petition delivered",
    )
    summary.refresh_from_db()
    assert summary.frozen_at is not None and summary.outcome_id == outcome.pk
    assert summary.tables["tables"]["country"][0]["reported"] == 10
    _make(
        issue_area, n=5, email="after{i}@example.org", status=CaseReport.Status.VERIFIED
    )  # after: the summary does not move
    page = client.get(reverse("evidence:summary", args=[summary.pk])).content.decode()
    assert ">10<" in page and ">15<" not in page
    outcome.refresh_from_db()
    assert outcome.evidence_url.endswith(summary.get_absolute_url())


def test_the_delivery_mail_to_officials_links_its_evidence(
    live: Any, contacts: Any, issue_area: IssueArea
) -> None:
    from campaigns import joint

    _make(issue_area, n=5)
    delivery = outreach_services.delivery_prepare(petition=live.petition, targets=contacts[:1])
    summary = services.summary_attach(organization=live.orgs[0], user=live.admins[0],
                                      issue_area=issue_area, delivery=delivery)  # fmt: skip
    for organization, admin in zip(live.orgs, live.admins, strict=True):
        outreach_services.delivery_approve(delivery=delivery, organization=organization, user=admin)
    with pytest.raises(services.EvidenceError, match="begun approving"):
        services.summary_attach(organization=live.orgs[1], user=live.admins[1],
                                issue_area=IssueArea.objects.get(slug="vehicles"),
                                delivery=delivery)  # fmt: skip
    act = outreach_services.delivery_act(delivery)
    assert act is not None and act.status == joint.JointAct.Status.ADOPTED

    assert outreach_services.delivery_send_if_ready(delivery=delivery) is True

    mail = Email.objects.get(kind="outreach.delivery")
    assert summary.get_absolute_url() in mail.body_text
    summary.refresh_from_db()
    assert summary.frozen_at is not None


def test_only_a_cosponsor_attaches_evidence(live: Any, letters: Any, issue_area: IssueArea) -> None:
    with pytest.raises(services.EvidenceError, match="co-sponsors"):
        services.summary_attach(organization=live.outsider, user=live.outsider_admin,
                                issue_area=issue_area, letter_campaign=letters)  # fmt: skip
    assert not EvidenceSummary.objects.exists()


# --- demo data ------------------------------------------------------------------------------


def test_the_demo_cases_fill_cells_with_the_default_delay_and_seed_once(
    settings: LazySettings,
) -> None:
    from evidence import demo
    from members import demo as members_demo

    settings.EVIDENCE_AS_OF_DAYS = 1
    members_demo.seed()
    demo.seed()
    demo.seed()

    area = IssueArea.objects.get(slug="bank-accounts")
    data = aggregates.area_tables(issue_area=area)
    assert len(data["tables"]["country"]) >= 3
    assert data["verified_total"] and data["verified_total"] < data["reported_total"]
    assert CaseReport.objects.filter(email_digest__isnull=False).count() == 100
    assert ModerationLog.objects.filter(action="verify").exists()
    assert not Email.objects.filter(kind__startswith="evidence.").exists()
    assert selectors.public_accounts(issue_area=area)  # the demo shows released accounts


def test_one_mailbox_cannot_fill_a_cell(issue_area: IssueArea) -> None:
    verified = CaseReport.Status.VERIFIED
    _make(issue_area, n=5, email="same@example.org", status=verified)  # the same case 5 times
    _make(issue_area, n=4, email="e{i}@example.org", status=verified)
    assert _rows(issue_area, "country")["LV"]["reported"] == 5

    for bank in ("SEB", "Luminor", "Citadele", "Nordea"):  # one mailbox, many cases
        _make(issue_area, bank=bank, email="many@example.org", status=verified)
    assert _rows(issue_area, "country")["LV"]["reported"] == 8  # 5 + at most 3 of hers


def test_other_organizations_moderators_are_not_named_in_the_log(
    client: Client, live: Any, issue_area: IssueArea
) -> None:
    alpha, beta = live.orgs
    (report,) = _make(issue_area)
    services.report_moderate(report=report, organization=beta, user=live.admins[1],
                             action="verify", reason="checked the letter")  # fmt: skip
    client.force_login(live.admins[0])
    page = client.get(reverse("evidence:log", args=[alpha.slug])).content.decode()
    assert "checked the letter" in page and beta.name in page
    assert live.admins[1].email not in page


def test_workspace_forms_refuse_bad_input_clearly_and_change_nothing(
    client: Client, live: Any, issue_area: IssueArea
) -> None:
    alpha = live.orgs[0]
    CaseDesk.objects.create(organization=alpha, issue_area=issue_area)
    (report,) = _make(issue_area, consents=[alpha])
    client.force_login(live.admins[0])

    contact = client.post(reverse("evidence:contact", args=[alpha.slug, report.pk]), {"reason": ""})
    desks = client.post(reverse("evidence:desks", args=[alpha.slug]), {"areas": ["nope"]})
    retire = client.post(reverse("evidence:term_retire", args=[alpha.slug]), {"term": "x"})
    review = client.post(
        reverse("evidence:report_review", args=[alpha.slug, report.pk]),
        {"action": "publish-everything", "reason": "because"},
    )

    assert (contact.status_code, desks.status_code, retire.status_code) == (400, 400, 400)
    assert review.status_code == 400
    assert "This field is required" in contact.content.decode()
    assert "Select a valid choice" in desks.content.decode() + review.content.decode()
    assert "r0@example.org" not in contact.content.decode()
    assert not ModerationLog.objects.exists()
    assert CaseDesk.objects.filter(organization=alpha).count() == 1
    report.refresh_from_db()
    assert report.status == CaseReport.Status.CONFIRMED


def test_a_summary_attached_to_letters_is_frozen_by_the_first_letter_wave(
    live: Any, letters: Any, issue_area: IssueArea
) -> None:
    from campaigns.services import outcome_system

    _make(issue_area, n=5)
    summary = services.summary_attach(organization=live.orgs[1], user=live.admins[1],
                                      issue_area=issue_area, letter_campaign=letters)  # fmt: skip
    with pytest.raises(services.EvidenceError, match="attached already"):
        services.summary_attach(organization=live.orgs[0], user=live.admins[0],
                                issue_area=issue_area, letter_campaign=letters)  # fmt: skip
    outcome_system(campaign_id=live.campaign.pk, kind=OutcomeEvent.Kind.LETTER_WAVE,
                   description_en="Letters", link=f"letters:{letters.pk + 1}")  # fmt: skip
    summary.refresh_from_db()
    assert summary.frozen_at is None  # another letter campaign's wave
    outcome_system(campaign_id=live.campaign.pk, kind=OutcomeEvent.Kind.LETTER_WAVE,
                   description_en="Letters", link=f"letters:{letters.pk}")  # fmt: skip
    summary.refresh_from_db()
    assert summary.frozen_at is not None
    with pytest.raises(services.EvidenceError, match="already going out"):
        services.summary_attach(organization=live.orgs[0], user=live.admins[0],
                                issue_area=IssueArea.objects.get(slug="vehicles"),
                                letter_campaign=letters)  # fmt: skip


@pytest.mark.nojs_cost
def test_without_javascript_the_aged_form_token_is_the_price(
    client: Client, settings: LazySettings, issue_area: IssueArea
) -> None:

    url = reverse("evidence:report", args=[issue_area.slug])
    token = re.search(r'name="nojs" value="([^"]+)"', client.get(url).content.decode())
    assert token is not None

    too_fast = _report(issue_area, client, nojs=token.group(1))
    assert too_fast.status_code == 400
    assert "quicker than anyone" in too_fast.content.decode()
    assert not CaseReport.objects.exists()

    settings.NOJS_MIN_SECONDS = 0  # as if the person had read and typed for a while
    fresh = re.search(r'name="nojs" value="([^"]+)"', too_fast.content.decode())
    assert fresh is not None
    assert _report(issue_area, client, nojs=fresh.group(1)).status_code == 302
    assert CaseReport.objects.count() == 1
    replay = _report(issue_area, client, nojs=fresh.group(1), email="other@example.org")
    assert replay.status_code == 400
    assert CaseReport.objects.count() == 1


def test_the_public_page_scans_the_reports_once_per_cut_off_not_per_view(
    client: Client, settings: LazySettings, issue_area: IssueArea
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    settings.EVIDENCE_AS_OF_DAYS = 1
    _make(issue_area, n=5, status=CaseReport.Status.VERIFIED)
    two_days_ago = timezone.now() - timedelta(days=2)
    CaseReport.objects.update(confirmed_at=two_days_ago, verified_at=two_days_ago)
    url = reverse("evidence:evidence", args=[issue_area.slug])
    assert "Latvia" in client.get(url).content.decode()

    with CaptureQueriesContext(connection) as queries:
        page = client.get(url).content.decode()

    assert "Latvia" in page
    scans = [
        q["sql"] for q in queries.captured_queries if '"evidence_casereport"."month"' in q["sql"]
    ]
    assert scans == []
