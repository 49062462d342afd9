"""Admit the coalition's first members, who have nobody to vote them in.

    python manage.py admit_founding_member <slug> [<slug> ...]

Each organization must already have applied through the website (so it has an admin and a
public profile). The admission is recorded in the public ledger as a founding admission.
Once the coalition has members, admit everyone else by vote.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from members.models import Organization
from members.services import MembershipError, organization_admit_founding


class Command(BaseCommand):
    help = "Admit organizations that applied as founding members of the coalition (no vote)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slugs", nargs="+", help="short names of organizations that applied")

    def handle(self, *args: Any, **options: Any) -> None:
        for slug in options["slugs"]:
            organization = Organization.objects.filter(slug=slug).first()
            if organization is None:
                raise CommandError(f"No organization with the short name {slug!r} has applied.")
            try:
                organization_admit_founding(organization=organization)
            except MembershipError as exc:
                raise CommandError(str(exc)) from exc
            self.stdout.write(self.style.SUCCESS(f"Admitted {organization.name} as a founder."))
