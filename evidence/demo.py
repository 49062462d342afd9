"""Demo case reports: enough confirmed and verified reports that the evidence pages have cells.

Reporters are fictional and write from the reserved example.org domain; their confirmation
mail is dropped before it leaves the outbox. Figures are dated before today so that they show
with the default one-day delay (evidence/aggregates.py, rule 4).
"""

from __future__ import annotations

import random
from datetime import date, timedelta

from django.db import transaction
from django.utils import timezone

from campaigns.models import IssueArea
from evidence import services
from evidence.models import CaseDesk, CaseReport, Term
from evidence.vocabularies import FIELDS
from members.models import Membership, Organization
from outbox.models import Email

DOMAIN = "cases.demo.example.org"
DESKS = {
    "Baltic Emigre Help Desk": ["bank-accounts", "vehicles"],
    "Exiled Lawyers Collective": ["bank-accounts", "visas", "documents"],
}
MODERATOR_ORG = "Exiled Lawyers Collective"
# (issue area, how many, countries with weights, {list: [(English name, weight)]})
PLANS: list[tuple[str, int, dict[str, int], dict[str, list[tuple[str, int]]]]] = [
    (
        "bank-accounts",
        70,
        {"LV": 18, "DE": 16, "LT": 10, "EE": 9, "PL": 7, "FI": 4, "NL": 3, "CY": 3},
        {
            "institution": [("Swedbank", 12), ("SEB", 9), ("Luminor", 7), ("Deutsche Bank", 8),
                            ("Sparkasse", 9), ("Revolut", 6), ("N26", 5), ("Citadele", 4),
                            ("PKO Bank Polski", 5), ("Nordea", 3), ("Wise", 2)],
            "event": [("Account frozen", 8), ("Account closed", 7),
                      ("Refused to open an account", 9), ("Transfer blocked", 4),
                      ("Extra documents demanded", 6)],
            "reason": [("No reason given", 8), ("Russian citizenship", 6),
                       ("Sanctions compliance", 5), ("The bank's risk policy", 3)],
            "status": [("Temporary residence permit", 8), ("Permanent residence", 4),
                       ("International protection (refugee)", 3), ("Humanitarian visa", 3)],
            "outcome": [("Still unresolved", 8), ("Moved to another bank", 4),
                        ("Complaint filed", 3), ("Account opened or reopened", 2)],
        },
    ),
    (
        "vehicles",
        30,
        {"EE": 10, "FI": 8, "LV": 7, "LT": 5},
        {
            "place": [("Narva – Ivangorod", 8), ("Vaalimaa – Torfyanovka", 6),
                      ("Terehova – Burachki", 5), ("Inland, not at a border", 4)],
            "institution": [("Customs", 8), ("Border guard", 5), ("Police", 2)],
            "event": [("Refused entry", 6), ("Vehicle seized", 5), ("Fined", 3),
                      ("Forced re-registration", 2)],
            "reason": [("EU sanctions (Regulation 833/2014)", 7), ("No legal basis cited", 3)],
            "outcome": [("Still unresolved", 5), ("Appeal filed", 3), ("Vehicle confiscated", 2)],
        },
    ),
]  # fmt: skip
ACCOUNTS = [
    "The bank wrote that it was ending the relationship, two months after I renewed my permit.",
    "At the branch they said a Russian passport was enough to refuse; nothing in writing.",
    "Customs took the car at the border and gave a paper citing the sanctions regulation.",
]
REDACTED = [
    "The bank ended the relationship shortly after the reporter's permit was renewed.",
    "A branch refused an account orally, citing only the reporter's citizenship.",
    "Customs seized the car and cited the sanctions regulation.",
]


def _pick(rng: random.Random, weighted: list[tuple[str, int]]) -> str:
    return rng.choices([name for name, _w in weighted], [w for _n, w in weighted])[0]


@transaction.atomic
def seed() -> None:
    if CaseReport.objects.filter(email_digest=services.email_digest(f"r0@{DOMAIN}")).exists():
        return
    services.terms_ensure()
    rng = random.Random(13)  # noqa: S311 - demo data, reproducible
    for name, areas in DESKS.items():
        organization = Organization.objects.filter(name=name).first()
        for slug in areas if organization else []:
            CaseDesk.objects.get_or_create(
                organization=organization, issue_area=IssueArea.objects.get(slug=slug)
            )
    moderator_org = Organization.objects.get(name=MODERATOR_ORG)
    moderator = (
        moderator_org.memberships.filter(role=Membership.Role.ADMIN).select_related("user")[0].user
    )
    desks = {slug: services.case_desks(issue_area=IssueArea.objects.get(slug=slug)) for slug in
             ("bank-accounts", "vehicles")}  # fmt: skip
    today = timezone.localdate()
    n = 0
    for slug, count, countries, lists in PLANS:
        area = IssueArea.objects.get(slug=slug)
        terms = {(t.vocabulary, t.name_en): t for t in Term.objects.filter(issue_area=area)}
        for _ in range(count):
            months_ago = rng.randint(1, 18)
            month = date(today.year, today.month, 1) - timedelta(days=30 * months_ago)
            story = rng.random() < 0.1
            report = services.report_create(
                issue_area=area,
                email=f"r{n}@{DOMAIN}",
                country=rng.choices(list(countries), list(countries.values()))[0],
                month=month.replace(day=1),
                choices={v: terms[(v, _pick(rng, lists[v]))] for v in lists if v in FIELDS},
                others={},
                documents=[],
                account=ACCOUNTS[n % 3] if story else "",
                publish_account=story,
                consents=[o for o in desks[slug] if rng.random() < 0.2],
            )
            n += 1
            if report is None:
                continue
            report = services.report_confirm(token=services.token_make(report.pk, "confirm"))
            if rng.random() < 0.65:
                report = services.report_moderate(
                    report=report, organization=moderator_org, user=moderator, action="verify",
                    reason="Documents seen on a call with the reporter.",
                    redacted=REDACTED[(n - 1) % 3] if story else "",
                )  # fmt: skip
            elif rng.random() < 0.15:
                report = services.report_moderate(
                    report=report, organization=moderator_org, user=moderator, action="reject",
                    reason="Duplicate of an earlier report.",
                )  # fmt: skip
            # Confirmed and reviewed days ago: shown with the default one-day delay.
            past = timezone.now() - timedelta(days=rng.randint(2, 60))
            CaseReport.objects.filter(pk=report.pk).update(
                created_at=past - timedelta(hours=1),
                confirmed_at=past,
                moderated_at=past + timedelta(hours=5) if report.moderated_at else None,
                verified_at=past + timedelta(hours=5) if report.verified_at else None,
                rejected_at=past + timedelta(hours=5) if report.rejected_at else None,
            )
            if story and report.verified_at:
                # Demo only: as if a second organization had approved the public version and a
                # release batch had gone out (services.accounts_release).
                CaseReport.objects.filter(pk=report.pk).update(
                    account_approved_at=past + timedelta(hours=6),
                    account_released_at=past + timedelta(days=1),
                )
    demo_mail = [
        e.pk
        for e in Email.objects.filter(kind__startswith="evidence.").only("pk", "to")
        if e.to.endswith(DOMAIN)
    ]
    Email.objects.filter(pk__in=demo_mail).delete()
