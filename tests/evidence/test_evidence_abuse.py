"""An attacker's review of case reports (issue 13): a published account tied to its rows, a
hidden count recovered by subtraction, a reporter's words published nearly as written, made-up
reports that reveal a real one, a single moderator's list entry on the public form."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.conf import LazySettings
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from campaigns.models import IssueArea
from evidence import aggregates, selectors, services
from evidence.models import CaseReport, ModerationLog, Term
from members.models import Membership
from tests.evidence.test_evidence import _make
from tests.factories import make_member

pytestmark = pytest.mark.django_db


def _cells(data: dict[str, Any]) -> dict[tuple[str, str], Any]:
    return {
        (d, r["key"]): (r["reported"], r["verified"])
        for d, rows in data["tables"].items()
        for r in rows
    }


def test_writing_the_public_version_today_does_not_move_todays_figures(
    live: Any, issue_area: IssueArea, settings: LazySettings
) -> None:
    settings.EVIDENCE_AS_OF_DAYS = 1
    settings.EVIDENCE_MIN_CELL = 2
    alpha, beta = live.orgs[0], live.orgs[1]
    editor = make_member(alpha, Membership.Role.EDITOR)
    reports = _make(
        issue_area,
        n=3,
        status=CaseReport.Status.VERIFIED,
        publish_account=True,
        account="I am Ivan from Riga, my bank froze it",
    )
    reports += _make(
        issue_area,
        n=2,
        country="DE",
        bank="Sparkasse",
        email="s{i}@example.org",
        status=CaseReport.Status.VERIFIED,
    )
    old = timezone.now() - timedelta(days=3)
    CaseReport.objects.update(confirmed_at=old, moderated_at=old, verified_at=old)
    before = _cells(aggregates.area_tables(issue_area=issue_area))
    services.report_moderate(
        report=reports[0],
        organization=alpha,
        user=editor,
        action="redact",
        reason="public version",
        redacted="A bank froze it.",
    )
    # a rejection today does not move today's figures either (status as of the cut-off)
    services.report_moderate(
        report=reports[3],
        organization=alpha,
        user=editor,
        action="reject",
        reason="turned out false",
    )
    assert _cells(aggregates.area_tables(issue_area=issue_area)) == before
    tomorrow = aggregates.as_of_now() + timedelta(days=1)
    after = _cells(aggregates.area_tables(issue_area=issue_area, as_of=tomorrow))
    assert after[("country", "LV")] == (3, 3)
    assert ("country", "DE") not in after  # one verified left: under k, no longer named
    # the account is not public: no second organization approved it, no release batch yet
    assert selectors.public_accounts(issue_area=issue_area) == []
    reports[0].refresh_from_db()
    assert reports[0].verified_at == old and reports[0].public_account == ""
    assert beta.pk != alpha.pk


def test_a_public_version_nearly_as_written_is_refused(live: Any, issue_area: IssueArea) -> None:
    alpha = live.orgs[0]
    editor = make_member(alpha, Membership.Role.EDITOR)
    (report,) = _make(
        issue_area,
        status=CaseReport.Status.VERIFIED,
        publish_account=True,
        account="I am Ivan from Riga, my bank froze it",
    )
    for nearly in (
        "I am Ivan from Riga, my bank froze it.",
        "i am ivan from riga,  my bank froze it!",
        "I am Ivan from Riga; my bank froze it",
        # the account whole, inside enough filler to lower the overall ratio
        "Some text to begin with, quite long. I am Ivan from Riga, my bank froze it. "
        "And more words here, added only to dilute the similarity of the two texts.",
    ):
        with pytest.raises(services.EvidenceError, match="almost the reporter's own words"):
            services.report_moderate(
                report=report,
                organization=alpha,
                user=editor,
                action="redact",
                reason="public version",
                redacted=nearly,
            )
    services.report_moderate(
        report=report,
        organization=alpha,
        user=editor,
        action="redact",
        reason="public version",
        redacted="A bank froze a man's account.",
    )


def test_the_moderation_form_shows_the_similarity_error(
    client: Client, live: Any, issue_area: IssueArea
) -> None:
    alpha = live.orgs[0]
    editor = make_member(alpha, Membership.Role.EDITOR)
    (report,) = _make(
        issue_area, publish_account=True, account="I am Ivan from Riga, my bank froze it"
    )
    client.force_login(editor)
    response = client.post(
        reverse("evidence:report_review", args=[alpha.slug, report.pk]),
        {
            "action": "verify",
            "reason": "credible",
            "redacted": "I am Ivan from Riga, my bank froze it.",
        },
    )
    assert response.status_code == 400
    assert "almost the reporter" in response.content.decode()
    report.refresh_from_db()
    assert (report.status, report.account_redacted) == (CaseReport.Status.CONFIRMED, "")


def test_a_public_version_needs_a_second_organization_and_a_release_batch(
    live: Any, issue_area: IssueArea, settings: LazySettings
) -> None:
    settings.EVIDENCE_MIN_CELL = 2
    settings.EVIDENCE_ACCOUNT_DELAY_DAYS = 14
    settings.EVIDENCE_ACCOUNT_RELEASE_EVERY_DAYS = 7
    alpha, beta = live.orgs[0], live.orgs[1]
    a_editor = make_member(alpha, Membership.Role.EDITOR)
    b_editor = make_member(beta, Membership.Role.EDITOR)
    reports = _make(issue_area, n=3, publish_account=True, account="Long story of a person")
    for report in reports:
        services.report_moderate(
            report=report,
            organization=alpha,
            user=a_editor,
            action="verify",
            reason="credible",
            redacted=f"A bank froze an account ({report.pk}).",
        )
    with pytest.raises(services.EvidenceError, match="another member organization"):
        services.report_moderate(
            report=reports[0], organization=alpha, user=a_editor, action="approve", reason="fine"
        )
    services.report_moderate(
        report=reports[0], organization=beta, user=b_editor, action="approve", reason="fine"
    )
    assert ModerationLog.objects.filter(action="approve", organization=beta).count() == 1
    release_day = datetime(2027, 1, 7, 12, tzinfo=UTC)  # 20825 days after 1970-01-01: 7 | it
    assert (release_day.date() - datetime(1970, 1, 1, tzinfo=UTC).date()).days % 7 == 0
    CaseReport.objects.update(verified_at=release_day - timedelta(days=20))
    CaseReport.objects.filter(pk=reports[0].pk).update(
        account_approved_at=release_day - timedelta(days=20)
    )
    # one approved account is a batch under k: it waits
    assert services.accounts_release(now=release_day) == 0
    services.report_moderate(
        report=reports[1], organization=beta, user=b_editor, action="approve", reason="fine"
    )
    CaseReport.objects.filter(pk=reports[1].pk).update(
        account_approved_at=release_day - timedelta(days=15)
    )
    # not a release day: nothing, even with a full batch
    assert services.accounts_release(now=release_day + timedelta(days=1)) == 0
    assert selectors.public_accounts(issue_area=issue_area) == []
    assert services.accounts_release(now=release_day) == 2
    assert sorted(selectors.public_accounts(issue_area=issue_area)) == sorted(
        [
            f"A bank froze an account ({reports[0].pk}).",
            f"A bank froze an account ({reports[1].pk}).",
        ]
    )
    # rewriting a released text takes it off until approved and released again
    services.report_moderate(
        report=reports[0],
        organization=alpha,
        user=a_editor,
        action="redact",
        reason="better",
        redacted="A bank froze it.",
    )
    assert len(selectors.public_accounts(issue_area=issue_area)) == 1


def _tables_everywhere(client: Client, issue_area: IssueArea) -> list[dict[str, Any]]:
    """The tables as the JSON open data and as the CSV give them."""
    data = client.get(reverse("evidence:data", args=[issue_area.slug, "json"])).json()
    text = client.get(reverse("evidence:data", args=[issue_area.slug, "csv"])).content.decode()
    from_csv: dict[str, list[dict[str, Any]]] = {}
    for row in csv.DictReader(io.StringIO(text)):
        from_csv.setdefault(row["dimension"], []).append(row)
    return [data, {"tables": from_csv, "verified_total": data["verified_total"]}]


def test_no_hidden_verified_count_can_be_recovered_in_any_table(
    client: Client, issue_area: IssueArea, settings: LazySettings
) -> None:
    settings.EVIDENCE_AS_OF_DAYS = 0
    settings.EVIDENCE_MIN_CELL = 5
    _make(
        issue_area,
        n=5,
        bank="Swedbank",
        email="a{i}@example.org",
        status=CaseReport.Status.VERIFIED,
    )
    _make(issue_area, n=4, bank="Citadele", email="b{i}@example.org")
    _make(
        issue_area,
        n=1,
        bank="Citadele",
        email="c{i}@example.org",
        status=CaseReport.Status.VERIFIED,
    )
    data = aggregates.area_tables(issue_area=issue_area)
    assert data["verified_total"] == 6
    for dimension in aggregates.DIMENSIONS:
        for row in data["tables"][dimension]:
            if row["key"] == aggregates.SMALL:
                assert row["reported"] is None
            else:  # every named row's verified figure is published, and at least k
                assert row["verified"] is not None and row["verified"] >= 5
    institution = {r["key"]: r for r in data["tables"]["institution"]}
    citadele = str(Term.objects.get(name_en="Citadele").pk)
    assert citadele not in institution  # 4 made-up-able + 1 verified: not named
    for published in _tables_everywhere(client, issue_area):
        for dimension, rows in published["tables"].items():
            for row in rows:
                key = row.get("key")
                if key != aggregates.SMALL:
                    assert row["verified"] not in (None, ""), (dimension, row)
                    assert int(row["verified"]) >= 5
        assert citadele not in [row.get("key") for row in published["tables"]["institution"]]


def test_made_up_reports_do_not_reveal_whether_a_real_one_exists(
    issue_area: IssueArea, settings: LazySettings
) -> None:
    settings.EVIDENCE_AS_OF_DAYS = 0
    settings.EVIDENCE_MIN_CELL = 5
    # an attacker's k-1 confirmed reports from a catch-all domain, for Citadele in Germany
    _make(issue_area, n=4, country="DE", bank="Citadele", email="x{i}@catchall.example")
    without = _cells(aggregates.area_tables(issue_area=issue_area))
    # one real (confirmed, not yet reviewed) report in the same cell
    _make(issue_area, n=1, country="DE", bank="Citadele", email="real@example.org")
    with_real = _cells(aggregates.area_tables(issue_area=issue_area))
    assert set(with_real) == set(without)  # no cell appears
    assert ("country", "DE") not in with_real


def test_erasure_blanks_the_log_reasons_of_the_erased_reports(
    live: Any, issue_area: IssueArea
) -> None:
    alpha = live.orgs[0]
    editor = make_member(alpha, Membership.Role.EDITOR)
    (report,) = _make(issue_area, email="ivan@example.org")
    (other,) = _make(issue_area, email="other@example.org")
    for r in (report, other):
        services.report_moderate(
            report=r,
            organization=alpha,
            user=editor,
            action="verify",
            reason="Ivan Petrov from Riga, phoned him",
        )
    services.reports_erase(report.email_digest)
    reasons = dict(ModerationLog.objects.values_list("report_number", "reason"))
    assert "Ivan" not in reasons[report.pk]
    assert reasons[other.pk] == "Ivan Petrov from Riga, phoned him"


def test_a_new_list_entry_waits_for_a_second_organization(
    client: Client, live: Any, issue_area: IssueArea
) -> None:
    from evidence.forms import ReportForm

    alpha, beta = live.orgs[0], live.orgs[1]
    a_editor = make_member(alpha, Membership.Role.EDITOR)
    b_editor = make_member(beta, Membership.Role.EDITOR)
    term = services.term_add(
        issue_area=issue_area,
        vocabulary="institution",
        name_en="Ivan Petrov",
        name_ru="Иван Петров",
        organization=alpha,
        user=a_editor,
        reason="new bank",
    )
    public_form = client.get(reverse("evidence:report", args=[issue_area.slug])).content.decode()
    assert "Ivan Petrov" not in public_form and "Иван Петров" not in public_form
    field = ReportForm(issue_area=issue_area, desks=[]).fields["institution"]
    assert str(term.pk) not in [value for value, _label in getattr(field, "choices", [])]
    with pytest.raises(services.EvidenceError, match="another member organization"):
        services.term_approve(term=term, organization=alpha, user=a_editor, reason="mine")
    client.force_login(b_editor)
    response = client.post(
        reverse("evidence:term_retire", args=[beta.slug]),
        {"term": term.pk, "approve": "on", "reason": "a real bank"},
    )
    assert response.status_code == 302
    term.refresh_from_db()
    assert term.approved_at is not None
    assert ModerationLog.objects.filter(
        action="term_approve", organization=beta, term=term
    ).exists()
    client.logout()
    public_form = client.get(reverse("evidence:report", args=[issue_area.slug])).content.decode()
    assert "Ivan Petrov" in public_form


def test_changing_the_desks_is_logged(live: Any, issue_area: IssueArea) -> None:
    alpha = live.orgs[0]
    services.desks_set(organization=alpha, user=live.admins[0], areas=[issue_area])
    services.desks_set(organization=alpha, user=live.admins[0], areas=[issue_area])  # no change
    services.desks_set(organization=alpha, user=live.admins[0], areas=[])
    log = list(ModerationLog.objects.filter(action="desks").values_list("organization", "reason"))
    assert sorted(log) == sorted([(alpha.pk, f"areas: {issue_area.slug}"), (alpha.pk, "areas: -")])


def test_the_merged_row_says_it_counts_verified_reports_and_publishes_no_reported_figure(
    client: Client, issue_area: IssueArea, settings: LazySettings
) -> None:
    settings.EVIDENCE_AS_OF_DAYS = 0
    settings.EVIDENCE_MIN_CELL = 5
    _make(issue_area, n=5, status=CaseReport.Status.VERIFIED)
    _make(issue_area, n=6, country="DE", email="d{i}@example.org")  # nobody reviewed them
    page = client.get(reverse("evidence:evidence", args=[issue_area.slug])).content.decode()
    assert "fewer than 5 verified reports each" in page
    assert "not published" in page and "Germany" not in page


def test_a_second_organization_finds_the_public_versions_it_must_approve(
    client: Client, live: Any, issue_area: IssueArea
) -> None:
    alpha, beta = live.orgs[0], live.orgs[1]
    a_editor = make_member(alpha, Membership.Role.EDITOR)
    b_editor = make_member(beta, Membership.Role.EDITOR)
    (report,) = _make(issue_area, publish_account=True, account="Long story of a person")
    services.report_moderate(report=report, organization=alpha, user=a_editor, action="verify",
                             reason="credible", redacted="A bank froze an account.")  # fmt: skip
    link = reverse("evidence:report_review", args=[beta.slug, report.pk])
    client.force_login(b_editor)
    assert link in client.get(reverse("evidence:moderation", args=[beta.slug])).content.decode()
    assert "Waiting for a moderator of another" in client.get(link).content.decode()
    response = client.post(link, {"action": "approve", "reason": "No names left"})
    assert response.status_code == 302
    assert link not in client.get(reverse("evidence:moderation", args=[beta.slug])).content.decode()
    client.force_login(a_editor)
    own = reverse("evidence:report_review", args=[alpha.slug, report.pk])
    assert own not in client.get(reverse("evidence:moderation", args=[alpha.slug])).content.decode()
