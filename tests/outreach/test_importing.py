from __future__ import annotations

from pathlib import Path

import pytest

from outreach.importing import contacts_import_csv, contacts_import_mep_xml
from outreach.models import Contact

pytestmark = pytest.mark.django_db
SAMPLES = Path(__file__).resolve().parents[2] / "outreach" / "samples"


def test_sample_files_import_and_reimport_updates_not_duplicates():
    first = contacts_import_csv((SAMPLES / "contacts.csv").read_bytes())
    xml = contacts_import_mep_xml((SAMPLES / "meps.xml").read_bytes())
    assert (first.created, first.errors) == (6, [])
    assert (xml.created, xml.errors) == (4, [])
    again = contacts_import_mep_xml((SAMPLES / "meps.xml").read_bytes())
    assert (again.created, again.updated) == (0, 4)
    assert Contact.objects.count() == 10
    mep = Contact.objects.get(external_id="ep:900002")
    assert (mep.country.code, mep.institution, mep.topics) == ("LV", "ep", ["vehicles", "banking"])


def test_bad_csv_rows_are_reported_by_line_and_the_rest_imported():
    raw = (
        b"name,email,institution,country\n"
        b"Good Office,good@x.example,regulator,DE\n"
        b",missing-name@x.example,regulator,DE\n"
        b"Bad Email,not-an-email,regulator,DE\n"
        b"Bad Institution,bi@x.example,pirates,DE\n"
        b"Bad Country,bc@x.example,other,Atlantis\n"
        b"Also Good,good2@x.example,,Latvia\n"
    )
    report = contacts_import_csv(raw)
    assert report.created == 2
    assert [line for line, _msg in report.errors] == [3, 4, 5, 6]
    assert "email" in report.errors[1][1] and "institution" in report.errors[2][1]
    assert Contact.objects.get(email="good2@x.example").country.code == "LV"


def test_re_import_updates_by_email():
    contacts_import_csv(b"name,email,title\nOld Name,o@x.example,Old\n")
    report = contacts_import_csv(b"name,email,title\nNew Name,O@x.example,New\n")
    assert (report.created, report.updated) == (0, 1)
    assert Contact.objects.get().name == "New Name"


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"\xff\xfe garbage", "UTF-8"),
        (b"foo,bar\n1,2\n", "header"),
    ],
)
def test_unreadable_csv_gets_a_clear_error(raw, message):
    report = contacts_import_csv(raw)
    assert message in report.errors[0][1]
    assert not Contact.objects.exists()


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"<meps><mep><fullName>x</mep></meps>", "malformed XML"),
        (b'<!DOCTYPE x [<!ENTITY e "boom">]><meps/>', "DTD"),
        (b"<meps></meps>", "no <mep>"),
    ],
)
def test_bad_xml_is_refused_with_a_reason(raw, message):
    assert message in contacts_import_mep_xml(raw).errors[0][1]


_WITH_ENTITY = (
    '<?xml version="1.0" encoding="UTF-16"?>'
    '<!DOCTYPE meps [<!ENTITY who "Injected Name">]>'
    "<meps><mep><fullName>&who;</fullName><id>1</id><country>Germany</country>"
    "<email>a@ep.example</email></mep></meps>"
)


@pytest.mark.parametrize(
    "raw",
    [
        _WITH_ENTITY.encode("utf-16"),  # with a byte-order mark
        _WITH_ENTITY.encode("utf-16-le"),
        _WITH_ENTITY.replace("UTF-16", "UTF-8").encode("utf-8"),
        # an external entity, and a DTD with no entity at all
        b'<!DOCTYPE meps SYSTEM "file:///etc/passwd"><meps/>'.decode().encode("utf-16"),
        '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE meps><meps/>'.encode("utf-16"),
    ],
)
def test_xml_with_a_dtd_is_refused_in_any_encoding_and_nothing_imported(raw):
    # A byte search for "<!DOCTYPE" missed it in UTF-16 and the entity reached the contact.
    report = contacts_import_mep_xml(raw)
    assert report.errors == [(0, "DTDs and entities are not accepted")]
    assert report.created == report.updated == 0
    assert not Contact.objects.exists()


def test_utf16_xml_without_a_dtd_is_imported():
    raw = _WITH_ENTITY.replace('<!DOCTYPE meps [<!ENTITY who "Injected Name">]>', "")
    report = contacts_import_mep_xml(raw.replace("&who;", "Anna Berg").encode("utf-16"))
    assert report.ok and report.created == 1
    assert Contact.objects.get().name == "Anna Berg"


def test_xml_entry_without_email_is_reported_and_others_imported():
    raw = (
        b"<meps><mep><fullName>A</fullName><id>1</id><country>Germany</country>"
        b"<email>a@ep.example</email></mep>"
        b"<mep><fullName>B</fullName><id>2</id><country>Germany</country></mep></meps>"
    )
    report = contacts_import_mep_xml(raw)
    assert report.created == 1
    assert report.errors[0][0] == 2
