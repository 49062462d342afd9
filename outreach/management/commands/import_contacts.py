"""Import EU contacts from a CSV file or the European Parliament's MEP list XML.

    python manage.py import_contacts outreach/samples/contacts.csv
    python manage.py import_contacts outreach/samples/meps.xml

Bad rows are reported with their line number; the others are imported. Running it again
updates the contacts it created instead of duplicating them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from outreach.importing import contacts_import_csv, contacts_import_mep_xml


class Command(BaseCommand):
    help = "Import EU contacts from CSV or MEP list XML (re-import updates)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", type=Path)

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["path"]
        if not path.is_file():
            raise CommandError(f"{path} is not a file")
        raw = path.read_bytes()
        report = (
            contacts_import_mep_xml(raw)
            if path.suffix.lower() == ".xml"
            else contacts_import_csv(raw)
        )
        for line, message in report.errors:
            self.stderr.write(f"{path.name}:{line}: {message}")
        self.stdout.write(
            self.style.SUCCESS(
                f"{report.created} created, {report.updated} updated, {len(report.errors)} rejected"
            )
        )
