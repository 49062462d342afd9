"""Demo campaigns: two live campaigns with petitions and confirmed demo signatures."""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from campaigns import services
from campaigns.models import Campaign, IssueArea, Signature
from campaigns.signing import token_make
from members.models import Membership, Organization
from outbox.models import Email

CAMPAIGNS: list[dict[str, Any]] = [
    {
        "issue_area": "bank-accounts",
        "title_en": "A bank account for every legal resident",
        "title_ru": "Банковский счёт для каждого, кто живёт в ЕС легально",
        "summary_en": "EU banks close or refuse accounts of Russian citizens who live here "
        "legally. The Payment Accounts Directive says everyone legally resident has a "
        "right to one.",
        "summary_ru": "Банки ЕС закрывают счета гражданам России, живущим здесь легально, или "
        "отказывают в них. Директива о платёжных счетах гарантирует право на счёт.",
        "body_en": "## What we ask\n\n1. Apply the **Payment Accounts Directive** as written.\n"
        "2. Publish clear guidance for banks.\n3. Give people a fast way to complain.",
        "body_ru": "## Чего мы добиваемся\n\n1. Применять **директиву о платёжных счетах** "
        "так, как она написана.\n2. Дать банкам ясные разъяснения.\n3. Создать быстрый "
        "способ пожаловаться.",
        "cosponsors": [
            "Baltic Emigre Help Desk",
            "Exiled Lawyers Collective",
            "Berlin Democratic Forum",
        ],
        "petition": {
            "title_en": "Let legal residents keep their bank accounts",
            "title_ru": "Не закрывайте счета тем, кто живёт в ЕС легально",
            "text_en": "We, residents of the EU who hold Russian passports, ask the European "
            "Commission to ensure that banks respect our right to a basic payment account.",
            "text_ru": "Мы, жители ЕС с российскими паспортами, просим Европейскую комиссию "
            "обеспечить соблюдение банками нашего права на базовый платёжный счёт.",
            "addressed_to": "European Commission, DG FISMA",
            "goal": 1000,
        },
        "signatures": 140,
    },
    {
        "issue_area": "vehicles",
        "title_en": "Fair entry rules for cars with Russian plates",
        "title_ru": "Справедливые правила въезда для машин с российскими номерами",
        "summary_en": "Residents of the EU are fined or have their cars seized at borders because "
        "of unclear sanctions guidance. We ask for clear, proportionate rules.",
        "summary_ru": "Жителей ЕС штрафуют и конфискуют их машины на границах из-за неясных "
        "разъяснений о санкциях. Мы добиваемся ясных и соразмерных правил.",
        "body_en": "The Commission's FAQ on personal vehicles has been applied very differently "
        "from one border to another. People who live here need one clear rule.",
        "body_ru": "Разъяснения Комиссии о личных автомобилях применяются на разных границах "
        "по-разному. Людям, живущим здесь, нужно одно ясное правило.",
        "cosponsors": [
            "Baltic Emigre Help Desk",
            "Tbilisi Relocation Network",
            "Warsaw Independent Media",
        ],
        "petition": {
            "title_en": "Clear rules for personal cars at EU borders",
            "title_ru": "Ясные правила для личных машин на границах ЕС",
            "text_en": "We ask the Commission to clarify that personal vehicles of legal "
            "residents are not subject to seizure, and to publish the rule in every language.",
            "text_ru": "Мы просим Комиссию разъяснить, что личные автомобили легальных "
            "жителей ЕС не подлежат конфискации, и опубликовать правило на всех языках.",
            "addressed_to": "European Commission, DG TAXUD; national customs authorities",
            "goal": 500,
        },
        "signatures": 85,
    },
]
COUNTRIES = ["DE", "LV", "LT", "EE", "PL", "CZ", "FI", "NL", "FR", "GE"]
# Russian surnames agree with the first name's gender (Ivan Petrov, Anna Petrova).
FIRST_MALE = ["Ivan", "Dmitry", "Sergey", "Pavel", "Alexei", "Mikhail", "Andrei", "Nikolai"]
FIRST_FEMALE = ["Anna", "Olga", "Maria", "Elena", "Irina", "Natalia", "Tatiana", "Yulia"]
LAST_MALE = ["Petrov", "Smirnov", "Ivanov", "Kuznetsov", "Popov", "Sokolov", "Lebedev", "Kozlov"]


def demo_name(rng: random.Random) -> str:
    """A first name and a surname of the same gender."""
    surname = rng.choice(LAST_MALE)
    if rng.random() < 0.5:
        return f"{rng.choice(FIRST_MALE)} {surname}"
    return f"{rng.choice(FIRST_FEMALE)} {surname}a"


def _admin(organization: Organization) -> Membership:
    return organization.memberships.filter(role=Membership.Role.ADMIN).select_related("user")[0]


@transaction.atomic
def seed() -> None:
    if Campaign.objects.filter(slug__startswith="a-bank-account-for-every").exists():
        return
    services.issue_areas_ensure()
    rng = random.Random(2026)  # noqa: S311 - demo data, reproducible
    for spec in CAMPAIGNS:
        organizations = [Organization.objects.get(name=name) for name in spec["cosponsors"]]
        first = organizations[0]
        campaign = services.campaign_create(
            organization=first,
            user=_admin(first).user,
            issue_area=IssueArea.objects.get(slug=spec["issue_area"]),
            **{
                k: spec[k]
                for k in ("title_en", "title_ru", "summary_en", "summary_ru", "body_en", "body_ru")
            },
        )
        for other in organizations[1:]:
            cs = services.cosponsor_invite(
                campaign=campaign, organization=first, invitee=other, user=_admin(first).user
            )
            services.cosponsor_respond(cosponsorship=cs, user=_admin(other).user, accept=True)
        petition = services.petition_create(
            campaign=campaign, organization=first, user=_admin(first).user, **spec["petition"]
        )
        services.campaign_go_live(campaign=campaign, organization=first, user=_admin(first).user)
        petition.refresh_from_db()
        for n in range(spec["signatures"]):
            name = demo_name(rng)
            signature = services.signature_create(
                petition=petition,
                name=name,
                email=f"signer{n}@{campaign.slug[:10]}.demo.example.org",
                country=rng.choice(COUNTRIES),
                display=rng.choice(list(Signature.Display.values)),
                consents=[o for o in organizations if rng.random() < 0.3],
                source=rng.choice([None, *organizations]),
            )
            if signature is not None and rng.random() < 0.9:
                services.signature_confirm(token=token_make(signature.pk, "confirm"))
        while services.signature_counts_fold():
            pass
        # Spread the demo signatures over the last two weeks so the charts have a shape.
        now = timezone.now()
        for signature in Signature.objects.filter(petition=petition):
            started = now - timedelta(hours=rng.randint(1, 14 * 24))
            Signature.objects.filter(pk=signature.pk).update(
                created_at=started,
                confirmed_at=started + timedelta(minutes=rng.randint(2, 600))
                if signature.confirmed_at
                else None,
            )
        services.signature_counts_rebuild(petition=petition)
        first_admin = _admin(first).user
        services.outcome_record(
            campaign=campaign,
            organization=organizations[-1],
            user=_admin(organizations[-1]).user,
            kind="media",
            date=(now - timedelta(days=6)).date(),
            description_en="A national daily reported on the campaign and quoted our co-sponsors.",
            description_ru="Газета написала о кампании и процитировала соорганизаторов.",
            evidence_url="https://news.example/article",
        )
        services.outcome_record(
            campaign=campaign,
            organization=first,
            user=first_admin,
            kind="meeting",
            date=(now - timedelta(days=2)).date(),
            description_en="Co-sponsors met officials to present the petition's demands.",
            description_ru="Соорганизаторы встретились с чиновниками и представили требования.",
        )
    # The demo signers are fictional: drop their confirmation mail before it leaves the outbox,
    # so var/mail/ holds only what a person trying the demo caused.
    # (Addresses are encrypted, so they are compared after decryption, not in SQL.)
    demo_mail = [
        e.pk
        for e in Email.objects.filter(kind__startswith="campaigns.").only("pk", "to")
        if e.to.endswith(".demo.example.org")
    ]
    Email.objects.filter(pk__in=demo_mail).delete()
