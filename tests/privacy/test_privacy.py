"""Signers' personal data: encrypted at rest, erased on request, purged on schedule, never
in logs or in the broker's messages."""

from __future__ import annotations

import logging
import re
import shutil
import subprocess
from datetime import timedelta

import pytest
from cryptography.fernet import Fernet
from django.core import mail
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from campaigns import services as campaign_services
from campaigns.models import Campaign, Signature
from campaigns.signing import token_make
from foundation.crypto import fernet
from outbox.models import Email
from privacy import services

pytestmark = pytest.mark.django_db
NAME, EMAIL, CITY = "Zinaida Unrepeatable", "zinaida.secret@example.org", "Vyborgskaya"


def _sign(live, **kw):
    return campaign_services.signature_create(
        petition=live.petition, name=NAME, email=EMAIL, country="DE", city=CITY, **kw
    )


def _raw_rows(table):
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {table}")  # noqa: S608 - test, fixed names
        return repr(cursor.fetchall())


def test_signer_name_email_city_and_their_mail_are_encrypted_at_rest(live):
    signature = _sign(live)
    campaign_services.signature_confirm(token=token_make(signature.pk, "confirm"))
    for table in ("campaigns_signature", "outbox_email"):
        raw = _raw_rows(table)
        assert EMAIL not in raw and NAME not in raw and CITY not in raw, table
    signature.refresh_from_db()
    assert (signature.name, signature.email, signature.city) == (NAME, EMAIL, CITY)


def test_old_keys_still_decrypt_and_rotation_moves_data_to_the_new_key(live, settings):
    _sign(live)
    old = list(settings.ENCRYPTION_KEYS)
    new = Fernet.generate_key().decode()
    settings.ENCRYPTION_KEYS = [new, *old]
    assert Signature.objects.get().email == EMAIL  # the old key still decrypts
    assert services.keys_rotate() > 0
    settings.ENCRYPTION_KEYS = [new]  # old key removed
    assert Signature.objects.get().email == EMAIL
    assert Email.objects.get(kind="campaigns.confirm").to == EMAIL
    settings.ENCRYPTION_KEYS = old
    with pytest.raises(ValueError, match="could not be decrypted"):
        Signature.objects.get().email  # noqa: B018


def test_delete_everything_link_in_every_email_erases_at_once(
    client, live, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        signature = _sign(live, consents=[live.orgs[0]])
    campaign_services.signature_confirm(token=token_make(signature.pk, "confirm"))
    link = re.search(r"http://testserver(/privacy/erase/\S+/)", mail.outbox[0].body)
    assert link is not None
    assert client.get(link.group(1)).status_code == 200
    assert Signature.objects.exists()  # a link scanner's GET deletes nothing
    assert client.post(link.group(1)).status_code == 200
    assert not Signature.objects.exists()
    assert all(e.to != EMAIL for e in Email.objects.all())
    while campaign_services.signature_counts_fold():
        pass
    live.petition.refresh_from_db()
    assert live.petition.confirmed_count == 0


def test_forged_erase_link_changes_nothing(client, live):
    _sign(live)
    assert client.post("/privacy/erase/forged/").status_code == 400
    assert Signature.objects.count() == 1


def test_retention_purges_after_close_but_keeps_the_counts(live, settings):
    signature = _sign(live)
    campaign_services.signature_confirm(token=token_make(signature.pk, "confirm"))
    while campaign_services.signature_counts_fold():
        pass
    Campaign.objects.filter(pk=live.campaign.pk).update(
        status=Campaign.Status.CLOSED, result="won", closed_at=timezone.now() - timedelta(days=91)
    )
    services.retention_purge()
    assert not Signature.objects.exists()
    live.petition.refresh_from_db()
    assert live.petition.confirmed_count == 1
    assert live.petition.country_counts.get().count == 1


def test_retention_keeps_data_of_recently_closed_campaigns(live):
    _sign(live)
    Campaign.objects.filter(pk=live.campaign.pk).update(
        status=Campaign.Status.CLOSED, result="won", closed_at=timezone.now() - timedelta(days=10)
    )
    services.retention_purge()
    assert Signature.objects.count() == 1


def test_logs_hold_no_signer_name_or_email(live, caplog, client):
    caplog.set_level(logging.DEBUG)
    client.post(
        reverse("campaigns:petition", args=[live.petition.slug]),
        {"name": NAME, "email": EMAIL, "country": "DE", "city": CITY, "display": "full"},
    )
    signature = Signature.objects.get()
    campaign_services.signature_confirm(token=token_make(signature.pk, "confirm"))
    text = "\n".join(f"{r.getMessage()} {r.__dict__}" for r in caplog.records)
    assert EMAIL not in text and NAME not in text


def test_smtp_errors_are_stored_without_the_address():
    import smtplib

    from outbox.services import send_failure_classify

    _permanent, reason = send_failure_classify(
        smtplib.SMTPRecipientsRefused({EMAIL: (550, b"no such user")})
    )
    assert EMAIL not in reason and "<address>" in reason


@pytest.mark.skipif(shutil.which("pg_dump") is None, reason="pg_dump not installed")
@pytest.mark.django_db(transaction=True)
def test_a_database_dump_contains_no_plain_signer_data(live):
    if connection.vendor != "postgresql":
        pytest.skip("the dump test needs PostgreSQL")
    signature = _sign(live)
    campaign_services.signature_confirm(token=token_make(signature.pk, "confirm"))
    db = connection.settings_dict
    dump = subprocess.run(  # noqa: S603
        [
            shutil.which("pg_dump"),
            "-h",
            db["HOST"],
            "-p",
            str(db["PORT"]),
            "-U",
            db["USER"],
            "--data-only",
            db["NAME"],
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    ).stdout
    assert "campaigns_signature" in dump
    assert EMAIL not in dump and NAME not in dump and CITY not in dump


def test_fernet_is_configured_from_settings():
    assert fernet().decrypt(fernet().encrypt(b"x")) == b"x"


def test_sealed_export_opens_only_with_the_organizations_private_key(client, live, tmp_path):
    import sys
    from pathlib import Path

    script = Path(__file__).resolve().parents[2] / "bin" / "decrypt-export"
    keys = subprocess.run(  # noqa: S603
        [sys.executable, str(script), "--generate-key"], capture_output=True, text=True, check=True
    ).stdout.split()
    private, public = keys[1], keys[3]
    signature = _sign(live, consents=[live.orgs[0]])
    campaign_services.signature_confirm(token=token_make(signature.pk, "confirm"))
    client.force_login(live.admins[0])
    response = client.post(
        reverse("members:export_key", args=[live.orgs[0].slug]), {"public_key": "not-a-key"}
    )
    live.orgs[0].refresh_from_db()
    assert live.orgs[0].export_public_key == ""  # rejected with a message
    client.post(reverse("members:export_key", args=[live.orgs[0].slug]), {"public_key": public})
    response = client.get(
        reverse("campaigns:export", kwargs={"org": live.orgs[0].slug, "slug": live.campaign.slug})
    )
    sealed = b"".join(response.streaming_content).decode()
    assert sealed.startswith("COALITION-SEALED-CSV 1\n")
    assert EMAIL not in sealed and NAME not in sealed
    (tmp_path / "export").write_text(sealed)
    (tmp_path / "private.key").write_text(private)
    export = str(tmp_path / "export")
    opened = subprocess.run(  # noqa: S603
        [sys.executable, str(script), "--key", str(tmp_path / "private.key"), export],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert opened.splitlines()[0].startswith("name,email")
    assert EMAIL in opened and NAME in opened
    other_private = subprocess.run(  # noqa: S603
        [sys.executable, str(script), "--generate-key"], capture_output=True, text=True, check=True
    ).stdout.split()[1]
    (tmp_path / "wrong.key").write_text(other_private)
    wrong = subprocess.run(  # noqa: S603
        [sys.executable, str(script), "--key", str(tmp_path / "wrong.key"), export],
        capture_output=True,
        text=True,
        check=False,
    )
    assert wrong.returncode == 1 and EMAIL not in wrong.stdout
