"""Development only: let the demo member organizations vote, so a newcomer can watch a decision.

    DJANGO_DEBUG=1 python manage.py demo_vote            # demo members vote "agree"
    DJANGO_DEBUG=1 python manage.py demo_vote --close    # ... and the deadline is now
    DJANGO_DEBUG=1 python manage.py demo_vote --screen --close
        # ... first screening in every application that awaits screening, as staff would

In a real coalition platform staff screen each application at /staff/, each organization's admin
votes on the website and the scheduled job closes the decision at its deadline. This command
refuses to run unless DJANGO_DEBUG is on.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from members.models import Decision, Membership, Organization
from members.selectors import decision_electorate
from members.services import decision_close, organization_screen, vote_cast


class Command(BaseCommand):
    help = "DEBUG only: demo member organizations vote on open decisions."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--close", action="store_true", help="close the decisions right away")
        parser.add_argument("--choice", default="agree", choices=["agree", "abstain", "disagree"])
        parser.add_argument(
            "--screen",
            action="store_true",
            help="first screen in every application awaiting screening (staff do this at /staff/)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG:
            raise CommandError("demo_vote is for development only (set DJANGO_DEBUG=1).")
        if options["screen"]:
            waiting = Organization.objects.filter(status=Organization.Status.SCREENING)
            for organization in waiting:
                organization_screen(organization=organization, by=None, admit=True)
                self.stdout.write(f"Screened in: {organization.name}; the coalition now votes.")
        for decision in Decision.objects.filter(status=Decision.Status.OPEN):
            for organization in decision_electorate(decision=decision):
                admin = (
                    Membership.objects.filter(
                        organization=organization,
                        role=Membership.Role.ADMIN,
                        user__email__endswith="@demo.example.org",
                    )
                    .select_related("user")
                    .first()
                )
                if admin is None or decision.votes.filter(organization=organization).exists():
                    continue
                vote_cast(
                    decision=decision,
                    organization=organization,
                    user=admin.user,
                    choice=options["choice"],
                )
                self.stdout.write(f"{organization.name} voted on “{decision.title}”.")
            if options["close"]:
                Decision.objects.filter(pk=decision.pk).update(deadline=timezone.now())
                decision.refresh_from_db()
                closed = decision_close(decision=decision, now=decision.deadline)
                self.stdout.write(self.style.SUCCESS(f"Closed: {closed.outcome_reason}"))
