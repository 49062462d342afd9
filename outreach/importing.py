"""Import EU contacts from CSV or the European Parliament's MEP list XML.

Bad rows are reported line by line and the rest imported; a re-import updates contacts
(matched by external id, else by email) instead of creating duplicates.
"""

from __future__ import annotations

import csv
import io
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

from defusedxml import DefusedXmlException
from defusedxml import ElementTree as DefusedET
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django_countries import countries

from outreach.models import Contact

CSV_COLUMNS = [
    "name", "email", "institution", "kind", "title", "country", "political_group",
    "languages", "topics", "time_zone", "external_id",
]  # fmt: skip
MAX_BYTES = 5 * 1024 * 1024
_COUNTRY_BY_NAME = {name.lower(): code for code, name in countries}


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)  # (line, message)

    @property
    def ok(self) -> bool:
        return not self.errors


def _split(value: str) -> list[str]:
    return [part.strip() for part in value.replace(";", ",").split(",") if part.strip()]


def _clean(row: dict[str, str]) -> dict[str, object]:
    """Validate one row; raise ValueError with a message naming the bad field."""
    name = (row.get("name") or "").strip()
    if not name or len(name) > 200:
        raise ValueError("name is missing or longer than 200 characters")
    email = (row.get("email") or "").strip()
    try:
        validate_email(email)
    except ValidationError:
        raise ValueError(f"email {email!r} is not a valid address") from None
    institution = (row.get("institution") or "").strip() or Contact.Institution.OTHER
    if institution not in Contact.Institution.values:
        raise ValueError(
            f"institution {institution!r} is not one of {', '.join(Contact.Institution.values)}"
        )
    kind = (row.get("kind") or "").strip() or Contact.Kind.PERSON
    if kind not in Contact.Kind.values:
        raise ValueError(f"kind {kind!r} must be person or office")
    country = (row.get("country") or "").strip()
    if country:
        code = country.upper() if len(country) == 2 else _COUNTRY_BY_NAME.get(country.lower(), "")
        if code not in dict(countries):
            raise ValueError(f"country {country!r} is not a known country")
        country = code
    title = (row.get("title") or "").strip()
    group = (row.get("political_group") or "").strip()
    if len(title) > 200 or len(group) > 100:
        raise ValueError("title or political group is too long")
    return {
        "name": name,
        "email": email,
        "institution": institution,
        "kind": kind,
        "title": title,
        "country": country,
        "political_group": group,
        "languages": _split(row.get("languages") or ""),
        "topics": _split(row.get("topics") or ""),
        "time_zone": (row.get("time_zone") or "").strip() or "Europe/Brussels",
        "external_id": (row.get("external_id") or "").strip() or None,
    }


def _upsert(data: dict[str, object], report: ImportReport) -> None:
    existing = None
    if data["external_id"]:
        existing = Contact.objects.filter(external_id=data["external_id"]).first()
    if existing is None:
        existing = Contact.objects.filter(email__iexact=str(data["email"])).first()
    if existing is None:
        Contact.objects.create(**data)
        report.created += 1
        return
    for key, value in data.items():
        if key == "external_id" and not value:
            continue
        setattr(existing, key, value)
    existing.save()
    report.updated += 1


def _import_rows(rows: list[tuple[int, dict[str, str]]]) -> ImportReport:
    report = ImportReport()
    for line, row in rows:
        try:
            data = _clean(row)
            with transaction.atomic():
                _upsert(data, report)
        except ValueError as exc:
            report.errors.append((line, str(exc)))
        except Exception as exc:  # a constraint we did not foresee: report the row, go on
            report.errors.append((line, f"could not be saved: {type(exc).__name__}"))
    return report


def contacts_import_csv(raw: bytes) -> ImportReport:
    if len(raw) > MAX_BYTES:
        return ImportReport(errors=[(0, "the file is larger than 5 MB")])
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return ImportReport(errors=[(0, "the file is not UTF-8 text")])
    reader = csv.DictReader(io.StringIO(text))
    if not reader.fieldnames or not {"name", "email"} <= set(reader.fieldnames):
        return ImportReport(errors=[(1, "the header must name at least the columns name,email")])
    rows = []
    try:
        for row in reader:
            if None in row:
                rows.append((reader.line_num, {"name": "", "email": ""}))  # too many cells
                continue
            rows.append((reader.line_num, row))
    except csv.Error as exc:
        return ImportReport(errors=[(reader.line_num, f"malformed CSV: {exc}")])
    return _import_rows(rows)


def contacts_import_mep_xml(raw: bytes) -> ImportReport:
    """The EP's public list (europarl.europa.eu/meps/en/full-list/xml): <meps><mep>…</mep></meps>.

    Its entries carry no email, so each <mep> must come with one: our sample adds <email>, and
    real imports join the list with the published addresses (firstname.lastname@europarl…).
    """
    if len(raw) > MAX_BYTES:
        return ImportReport(errors=[(0, "the file is larger than 5 MB")])
    # The parser itself refuses any DTD, entity or external reference, whatever the encoding:
    # a byte search for "<!DOCTYPE" missed it in UTF-16.
    try:
        root = DefusedET.fromstring(raw, forbid_dtd=True)
    except DefusedXmlException:
        return ImportReport(errors=[(0, "DTDs and entities are not accepted")])
    except ET.ParseError as exc:
        return ImportReport(errors=[(exc.position[0], f"malformed XML: {exc}")])
    rows = []
    for index, mep in enumerate(root.iter("mep"), start=1):

        def text(tag: str, mep: ET.Element = mep) -> str:
            element = mep.find(tag)
            return (element.text or "").strip() if element is not None else ""

        mep_id = text("id")
        rows.append(
            (
                index,
                {
                    "name": text("fullName"),
                    "email": text("email"),
                    "institution": Contact.Institution.PARLIAMENT,
                    "kind": Contact.Kind.PERSON,
                    "title": "Member of the European Parliament",
                    "country": text("country"),
                    "political_group": text("politicalGroup"),
                    "languages": text("languages"),
                    "topics": text("topics"),
                    "external_id": f"ep:{mep_id}" if mep_id else "",
                },
            )
        )
    if not rows:
        return ImportReport(errors=[(1, "no <mep> entries found")])
    return _import_rows(rows)
