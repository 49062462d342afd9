"""Load the demo data of every app. Safe to run twice: existing demo data is left as it is."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from campaigns import demo as campaigns_demo
from members import demo as members_demo
from outreach import demo as outreach_demo


class Command(BaseCommand):
    help = "Load demo organizations, decisions and campaigns (idempotent)."

    def handle(self, *args: Any, **options: Any) -> None:
        members_demo.seed()
        campaigns_demo.seed()
        outreach_demo.seed()
        self.stdout.write(self.style.SUCCESS("Demo data is loaded."))
