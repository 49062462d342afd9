"""Demo proposals of the emigre agenda, in Russian and English, at every stage of their life.

Made through the services (confirmation links followed, moderators publishing, supporters
confirming), with addresses at reserved example domains only; the confirmation mails the demo
caused are dropped from the outbox afterwards, like the demo signatures' (campaigns/demo.py).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from agenda import services
from agenda.models import AnswerMotion, Proposal
from campaigns.models import IssueArea
from members.models import Membership, Organization
from outbox.models import Email

MODERATOR = "Baltic Emigre Help Desk"

PROPOSALS: list[dict[str, Any]] = [
    {
        "title": "Нотариусы в Латвии не заверяют доверенности для граждан России",
        "description": "Чтобы продать квартиру или оформить наследство в России, нужна "
        "доверенность. Нотариусы в Риге отказываются её заверять, если у человека только "
        "российский паспорт, даже при виде на жительство. Консульство для многих из нас "
        "недоступно.",
        "issue_area": "documents",
        "countries": ["LV"],
        "language": "ru",
        "supports": 12,
        "stage": "open",
    },
    {
        "title": "Residence permit renewals in Germany take longer than the permits last",
        "description": "Foreigners' offices in several German cities give appointments months "
        "after a permit expires. The Fiktionsbescheinigung they hand out instead is not "
        "accepted by banks or employers, so people lose jobs and accounts while they wait.",
        "issue_area": "visas",
        "countries": ["DE"],
        "language": "en",
        "supports": 30,
        "stage": "awaiting",
    },
    {
        "title": "Банки в Литве закрывают счета при продлении ВНЖ",
        "description": "Пока миграционная служба рассматривает продление вида на жительство, "
        "банк видит просроченный документ и блокирует счёт. Зарплату и аренду оплатить "
        "нечем, хотя человек живёт в стране законно.",
        "issue_area": "bank-accounts",
        "countries": ["LT"],
        "language": "ru",
        "supports": 25,
        "stage": "overdue",
    },
    {
        "title": "Cars with Russian plates seized for a weekend trip across the border",
        "description": "People who live in Finland and Estonia legally have had their cars "
        "seized for driving across an internal border, even when the car is registered to "
        "them and they hold a residence permit.",
        "issue_area": "vehicles",
        "countries": ["FI", "EE"],
        "language": "en",
        "supports": 40,
        "stage": "adopted",
        "adopted_by": "Exiled Lawyers Collective",
        "campaign_title": "Stop seizing residents' cars at internal borders",
        "campaign_summary": "Residents' own cars should not be seized on internal borders. "
        "We ask the customs authorities for a clear exemption.",
    },
    {
        "title": "Учитывать российский водительский стаж при обмене прав во Франции",
        "description": "Французская префектура не засчитывает стаж вождения по российским "
        "правам, и опытным водителям приходится сдавать экзамен с нуля.",
        "issue_area": "vehicles",
        "countries": ["FR"],
        "language": "ru",
        "supports": 20,
        "stage": "declined",
        "declined_by": "Berlin Democratic Forum",
        "reason": "Французские правила обмена прав касаются всех стран вне ЕС одинаково; "
        "коалиция не видит здесь дискриминации, которую могла бы оспорить. Мы подскажем "
        "организации, которые помогают с экзаменом.",
    },
]


def _admin(name: str) -> tuple[Organization, Any]:
    organization = Organization.objects.get(name=name)
    membership = organization.memberships.filter(role=Membership.Role.ADMIN).select_related("user")[
        0
    ]
    return organization, membership.user


def _supporters(proposal: Proposal, count: int, slug: str) -> None:
    for n in range(count):
        email = f"agenda.{slug}.{n}@example.org"
        services.support_create(proposal=proposal, email=email, wants_answer=n % 2 == 0)
        support = proposal.supports.get(email_digest=services.email_digest(email))
        services.link_confirm(token=services.token_make("s", support.pk))


@transaction.atomic
def seed() -> None:
    if Proposal.objects.exists():
        return
    moderator, moderator_user = _admin(MODERATOR)
    for index, spec in enumerate(PROPOSALS):
        proposal = services.proposal_create(
            title=spec["title"],
            description=spec["description"],
            issue_area=IssueArea.objects.get(slug=spec["issue_area"]),
            countries=spec["countries"],
            email=f"agenda.proposer.{index}@example.org",
            wants_answer=True,
        )
        if proposal is None:  # only when the demo mailbox is over its daily mail cap
            continue
        Proposal.objects.filter(pk=proposal.pk).update(language=spec["language"])
        services.link_confirm(token=services.token_make("p", proposal.pk))
        proposal = services.proposal_publish(
            proposal=proposal, organization=moderator, user=moderator_user
        )
        _supporters(proposal, spec["supports"], str(index))
        proposal.refresh_from_db()
        if spec["stage"] != "open" and proposal.status == Proposal.Status.OPEN:
            # The demo has fewer supporters than the real threshold: put it before the members
            # as the threshold would have.
            now = timezone.now()
            Proposal.objects.filter(pk=proposal.pk).update(
                status=Proposal.Status.AWAITING,
                submitted_at=now - timedelta(days=10 + index),
                answer_due=now - timedelta(days=10 + index) + settings.AGENDA_ANSWER_WITHIN,
            )
            proposal.refresh_from_db()
        if spec["stage"] == "overdue":
            Proposal.objects.filter(pk=proposal.pk).update(
                submitted_at=timezone.now() - settings.AGENDA_ANSWER_WITHIN - timedelta(days=5),
                answer_due=timezone.now() - timedelta(days=5),
            )
        elif spec["stage"] == "adopted":
            organization, user = _admin(spec["adopted_by"])
            services.proposal_adopt(
                proposal=proposal,
                organization=organization,
                user=user,
                title=spec["campaign_title"],
                summary=spec["campaign_summary"],
            )
        elif spec["stage"] == "declined":
            organization, user = _admin(spec["declined_by"])
            motion = services.motion_propose(
                proposal=proposal,
                organization=organization,
                user=user,
                kind=AnswerMotion.Kind.DECLINE,
                reason=spec["reason"],
            )
            services.motions_settle(now=motion.effective_at or timezone.now())
    services.answer_notices_send()
    # Nobody reads the demo addresses' mail: drop it rather than send it.
    Email.objects.filter(kind__startswith="agenda.").delete()
