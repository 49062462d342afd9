"""Demo data for members: fictional organizations, reserved example domains only."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from allauth.account.models import EmailAddress
from django.db import transaction
from django.utils import timezone

from members.models import Decision, Organization, User
from members.services import (
    decision_close,
    organization_admit_founding,
    organization_apply,
    organization_screen,
    vote_cast,
)

DEMO_PASSWORD = "coalition-demo-2026"  # noqa: S105 - documented demo credential, DEBUG only


@dataclass(frozen=True)
class DemoOrg:
    name: str
    admin: str
    registered: str
    operates: tuple[str, ...]
    languages: tuple[str, ...]
    mission: str


FOUNDERS = [
    DemoOrg(
        "Baltic Emigre Help Desk",
        "helpdesk@demo.example.org",
        "LV",
        ("LV", "LT", "EE"),
        ("ru", "en", "lv"),
        "Free legal consultations for Russian emigres on residence permits and bank accounts.",
    ),
    DemoOrg(
        "Berlin Democratic Forum",
        "forum@demo.example.org",
        "DE",
        ("DE",),
        ("ru", "de", "en"),
        "A civic association of Russian-speaking democrats in Germany.",
    ),
    DemoOrg(
        "Exiled Lawyers Collective",
        "lawyers@demo.example.org",
        "NL",
        ("NL", "BE", "FR", "DE"),
        ("en", "ru"),
        "Lawyers in exile who challenge discriminatory rules affecting Russian passport holders.",
    ),
    DemoOrg(
        "Tbilisi Relocation Network",
        "tbilisi@demo.example.org",
        "GE",
        ("GE", "AM"),
        ("ru", "en", "ka"),
        "Practical help for people who left Russia: documents, schools, work.",
    ),
]
ADMITTED_BY_VOTE = DemoOrg(
    "Warsaw Independent Media",
    "media@demo.example.org",
    "PL",
    ("PL",),
    ("ru", "pl", "en"),
    "Independent journalists reporting on the lives of Russian emigres in the EU.",
)
PENDING = DemoOrg(
    "Prague Civic Initiative",
    "prague@demo.example.org",
    "CZ",
    ("CZ", "SK"),
    ("ru", "cs", "en"),
    "Volunteers who help newcomers with Czech bureaucracy and keep a Russian-language library.",
)


def _user(email: str) -> User:
    user, created = User.objects.get_or_create(email=email)
    if created:
        user.set_password(DEMO_PASSWORD)
        user.save()
    EmailAddress.objects.get_or_create(
        user=user, email=email, defaults={"verified": True, "primary": True}
    )
    return user


def _apply(org: DemoOrg) -> Organization:
    existing = Organization.objects.filter(name=org.name).first()
    if existing is not None:
        return existing
    organization = organization_apply(
        user=_user(org.admin),
        name=org.name,
        country_of_registration=org.registered,
        countries_of_operation=list(org.operates),
        website=f"https://{org.admin.split('@')[0]}.example.org/",
        mission=org.mission,
        languages=list(org.languages),
        legal_status=Organization.LegalStatus.NGO,
        funding_disclosure="Membership fees and small private donations (demo data).",
        contact_email=org.admin,
    )
    # Demo applications are our own fictional ones: screened in, as staff would.
    return organization_screen(organization=organization, by=None, admit=True)


@transaction.atomic
def seed() -> None:
    """Create the demo coalition; running it again changes nothing."""
    if Organization.objects.filter(name=PENDING.name).exists():
        return
    now = timezone.now()
    founders = []
    for org in FOUNDERS:
        organization = _apply(org)
        organization_admit_founding(organization=organization, now=now - timedelta(days=60))
        founders.append(organization)

    # One member admitted by a full vote, closed in the past, to show the ledger at work.
    media = _apply(ADMITTED_BY_VOTE)
    decision = Decision.objects.get(organization=media, status=Decision.Status.OPEN)
    opened = now - timedelta(days=20)
    Decision.objects.filter(pk=decision.pk).update(
        opened_at=opened, deadline=opened + timedelta(days=7)
    )
    decision.refresh_from_db()
    for organization, choice in zip(founders, ["agree", "agree", "agree", "abstain"], strict=True):
        vote_cast(
            decision=decision,
            organization=organization,
            user=organization.memberships.get().user,
            choice=choice,
            now=opened + timedelta(days=1),
        )
    decision_close(decision=decision, now=decision.deadline)

    # One application still open, with some votes already cast.
    prague = _apply(PENDING)
    pending = Decision.objects.get(organization=prague, status=Decision.Status.OPEN)
    for organization, choice in zip(founders[:2], ["agree", "abstain"], strict=True):
        vote_cast(
            decision=pending,
            organization=organization,
            user=organization.memberships.get().user,
            choice=choice,
        )
