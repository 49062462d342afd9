"""Load the demo data of every app. Safe to run twice: existing demo data is left as it is.

The demo accounts share a password published in this repository (members/demo.py), so the
command refuses to run outside development unless told, in so many words, that the database is
not a production one (the benchmarks seed a throwaway production-mode database that way).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from agenda import demo as agenda_demo
from campaigns import demo as campaigns_demo
from evidence import demo as evidence_demo
from members import demo as members_demo
from outreach import demo as outreach_demo

NOT_PRODUCTION_FLAG = "--i-know-this-is-not-production"


class Command(BaseCommand):
    help = "DEBUG only: load demo organizations, decisions and campaigns (idempotent)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            NOT_PRODUCTION_FLAG,
            action="store_true",
            dest="not_production",
            help="run without DJANGO_DEBUG, on a database nobody real will ever use",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not (settings.DEBUG or options["not_production"]):
            raise CommandError(
                "seed_demo creates accounts whose password is published, so it runs only with "
                f"DJANGO_DEBUG=1 (make run sets it). On a throwaway database, add "
                f"{NOT_PRODUCTION_FLAG}. Nothing was created."
            )
        members_demo.seed()
        campaigns_demo.seed()
        outreach_demo.seed()
        agenda_demo.seed()
        evidence_demo.seed()
        self.stdout.write(self.style.SUCCESS("Demo data is loaded."))
