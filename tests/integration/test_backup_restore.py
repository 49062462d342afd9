"""Backup and restore with the real tools: bin/backup-db, then bin/restore-db into a new database.

The restored database must hold every row the source holds, and the signers' personal data in it
must still decrypt with the same COALITION_ENCRYPTION_KEYS, and with no other key.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote

import psycopg
import pytest
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.db import connection
from psycopg import sql

from campaigns import services as campaign_services
from campaigns.models import Petition, Signature
from campaigns.signing import email_digest
from foundation import crypto
from outreach import services as outreach_services

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]
OUR_APPS = ("members_", "campaigns_", "outreach_", "outbox_")
SIGNER_NAME = "Olga Smirnova"  # what the `confirmed` fixture signs with


def _require_postgres() -> None:
    missing = []
    if connection.vendor != "postgresql":
        missing.append("PostgreSQL (DATABASE_URL)")
    missing += [tool for tool in ("pg_dump", "pg_restore", "psql") if shutil.which(tool) is None]
    if missing:
        message = "backup tests need " + ", ".join(missing)
        if os.environ.get("COALITION_REQUIRE_SERVICES"):
            pytest.fail(message)
        pytest.skip(message)


def _connect(dbname: str) -> psycopg.Connection:
    db = connection.settings_dict
    return psycopg.connect(
        dbname=dbname,
        host=db["HOST"] or None,
        port=db["PORT"] or None,
        user=db["USER"] or None,
        password=db["PASSWORD"] or None,
        autocommit=True,
    )


def _url(dbname: str) -> str:
    db = connection.settings_dict
    user = quote(db["USER"] or "", safe="")
    password = ":" + quote(db["PASSWORD"], safe="") if db["PASSWORD"] else ""
    port = f":{db['PORT']}" if db["PORT"] else ""
    return f"postgres://{user}{password}@{db['HOST']}{port}/{dbname}"


def _env() -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": _url(connection.settings_dict["NAME"]),
        "COALITION_TESTING": "1",
        # The restore check must decrypt with exactly the keys this process encrypted with.
        "COALITION_ENCRYPTION_KEYS": ",".join(settings.ENCRYPTION_KEYS),
    }


def _run(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - our own scripts
        [str(ROOT / "bin" / args[0]), *args[1:]],
        cwd=ROOT,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=check,
    )


def _row_counts(dbname: str) -> dict[str, int]:
    with _connect(dbname) as conn:
        tables = [
            row[0]
            for row in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        ]
        return {
            table: conn.execute(
                sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table))
            ).fetchone()[0]
            for table in tables
        }


def _printed_counts(output: str) -> dict[str, int]:
    return {table: int(n) for table, n in (line.rsplit(" ", 1) for line in output.splitlines())}


@pytest.fixture
def fresh_database() -> Iterator[str]:
    """A new, empty database on the same server, dropped afterwards whatever happened."""
    _require_postgres()
    name = f"{connection.settings_dict['NAME']}_restore_{uuid.uuid4().hex[:8]}"
    with _connect("postgres") as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield name
    finally:
        with _connect("postgres") as admin:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


def test_a_dump_restores_into_a_new_database_with_every_row_and_decryptable_personal_data(
    fresh_database, members, live, contacts, letters, confirmed, tmp_path
):
    signers = [
        confirmed(email=f"signer{i}@example.org", country=country)
        for i, country in enumerate(["DE", "FI", "LV"])
    ]
    campaign_services.signature_create(
        petition=live.petition, name="Pending Person", email="pending@example.org", country="EE"
    )
    sent = outreach_services.letters_send(
        letter_campaign=letters, signature=signers[0], personal_message="Please act now."
    )
    assert len(sent) == 2
    assert campaign_services.signature_counts_fold() > 0
    confirmed_count = Petition.objects.get(pk=live.petition.pk).confirmed_count
    assert confirmed_count == 3

    backup = _run("backup-db", str(tmp_path))
    dump = Path(backup.stdout.strip())
    assert dump.parent == tmp_path and dump.name.startswith("coalition-"), backup.stdout
    assert dump.stat().st_mode & 0o077 == 0  # readable by its owner only
    assert Path(f"{dump}.sha256").exists()

    restore = _run("restore-db", str(dump), fresh_database)
    assert "encrypted data decrypts" in restore.stderr, restore.stderr

    source = _row_counts(connection.settings_dict["NAME"])
    restored = _row_counts(fresh_database)
    for prefix in OUR_APPS:  # each app really had rows to lose
        assert any(n for table, n in source.items() if table.startswith(prefix)), prefix
    assert source["campaigns_signature"] == 4
    assert source["outreach_letter"] == 2
    assert source["outbox_email"] >= 6  # three confirmations, one pending's, two letters
    assert restored == source
    # What the script prints for the restored and the source database, for an operator's diff.
    assert _printed_counts(restore.stdout) == source
    assert _printed_counts(_run("restore-db", "--counts").stdout) == source

    with _connect(fresh_database) as conn:
        name, email, count = conn.execute(
            "SELECT s.name, s.email, p.confirmed_count FROM campaigns_signature s "
            "JOIN campaigns_petition p ON p.id = s.petition_id WHERE s.email_digest = %s",
            [email_digest("signer1@example.org")],
        ).fetchone()
    assert count == confirmed_count
    assert name != SIGNER_NAME  # stored encrypted...
    assert crypto.decrypt(name) == SIGNER_NAME  # ...and readable with the same keys
    assert crypto.decrypt(email) == "signer1@example.org"
    with pytest.raises(InvalidToken):  # ...and with no other key
        MultiFernet([Fernet(Fernet.generate_key())]).decrypt(name.encode())

    # The dump itself, as SQL: no signer's name, address or personal message in the clear.
    script = subprocess.run(  # noqa: S603
        ["pg_restore", "--file=-", str(dump)],  # noqa: S607
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    assert "campaigns_signature" in script
    for secret in (SIGNER_NAME, "signer1@example.org", "pending@example.org", "Please act now."):
        assert secret not in script

    # Restoring again into what is now a full database is refused, and changes nothing.
    again = _run("restore-db", str(dump), fresh_database, check=False)
    assert again.returncode == 1
    assert "not empty" in again.stderr
    assert _row_counts(fresh_database) == source
    assert Signature.objects.count() == 4


def test_backup_never_overwrites_an_existing_dump(fresh_database, tmp_path):
    # Occupy every name the script could pick in the next minute.
    now = datetime.now(UTC)
    taken = [
        tmp_path / f"coalition-{(now + timedelta(seconds=s)):%Y%m%dT%H%M%SZ}.dump"
        for s in range(-1, 60)
    ]
    for path in taken:
        path.write_text("an older dump")

    result = _run("backup-db", str(tmp_path), check=False)

    assert result.returncode == 1
    assert "not overwriting" in result.stderr
    assert all(path.read_text() == "an older dump" for path in taken)
    assert sorted(tmp_path.iterdir()) == sorted(taken)  # no partial file left behind either
