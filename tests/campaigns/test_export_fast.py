"""The supporter export's fast path (issue 11): COPY out of PostgreSQL and the encrypted columns
of a batch decrypted together. It must give exactly what the model fields give."""

from __future__ import annotations

import base64
import csv
import hmac
import io
import os
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from itertools import repeat

import pytest
from cryptography.fernet import Fernet
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from django.db import connection
from django.urls import reverse

from campaigns import selectors, services
from campaigns.models import Signature
from foundation.crypto import decrypt, decrypt_many, encrypt
from foundation.csvsafe import csv_cell, csv_column, csv_text
from tests.campaigns.conftest import admin_of, issue_area_make, live_campaign_make
from tests.campaigns.signing_helpers import supporter_confirmed

pytestmark = pytest.mark.django_db


def _batches_as_rows(*, campaign, organization, batch) -> Iterator[list[tuple]]:
    """The export's batches (``supporters_for_export_columns``) as rows shaped like
    ``supporters_for_export``'s (confirmed_at as isoformat() text), to compare the two."""
    for columns in selectors.supporters_for_export_columns(
        campaign=campaign, organization=organization, batch=batch
    ):
        yield list(
            zip(
                columns.name,
                columns.email,
                columns.country,
                columns.city,
                repeat(columns.petition),
                columns.confirmed_at,
                (wants == "t" for wants in columns.wants_updates),
                strict=False,  # repeat() has no end
            )
        )


def test_batch_decryption_equals_one_by_one_under_old_and_new_keys(settings):
    old = Fernet.generate_key().decode()
    settings.ENCRYPTION_KEYS = [old]
    under_old = [encrypt(v) for v in ("Мария", "x" * 16, "y" * 15)]
    settings.ENCRYPTION_KEYS = [Fernet.generate_key().decode(), old]  # a rotation under way
    under_new = [encrypt(v) for v in ("anna@example.org", "=cmd|' /C calc'!A0")]
    tokens = [*under_old, "", *under_new, ""]
    assert decrypt_many(tokens) == [decrypt(t) if t else "" for t in tokens]
    assert decrypt_many(tokens)[4:6] == ["anna@example.org", "=cmd|' /C calc'!A0"]


def test_batch_decryption_refuses_a_tampered_or_foreign_token(settings):
    token = encrypt("anna@example.org")
    tampered = token[:-10] + ("A" if token[-10] != "A" else "B") + token[-9:]
    with pytest.raises(ValueError):
        decrypt_many([token, tampered])
    foreign = Fernet(Fernet.generate_key()).encrypt(b"anna@example.org").decode()
    with pytest.raises(ValueError):
        decrypt_many([foreign])
    with pytest.raises(ValueError):
        decrypt_many(["not a token at all"])


def test_fast_rows_equal_the_model_rows_consent_filter_included(live):
    for n, confirmed_at in enumerate(
        [
            datetime(2026, 11, 30, 17, 0, 0, tzinfo=UTC),  # no fraction
            datetime(2026, 11, 30, 17, 0, 0, 500000, tzinfo=UTC),
            datetime(2026, 1, 2, 3, 4, 5, 123, tzinfo=UTC),
        ]
    ):
        signature = supporter_confirmed(
            live.petition,
            name=f"=Supporter {n}",
            email=f"s{n}@example.org",
            city="" if n else "Riga",
            consents=[live.orgs[0]],
        )
        Signature.objects.filter(pk=signature.pk).update(confirmed_at=confirmed_at)
    supporter_confirmed(  # consented to the other co-sponsor only
        live.petition, name="Other", email="other@example.org", consents=[live.orgs[1]]
    )
    expected = [
        (name, email, country, city, slug, when.isoformat(), wants)
        for name, email, country, city, slug, when, wants in selectors.supporters_for_export(
            campaign=live.campaign, organization=live.orgs[0]
        )
    ]
    fast = [
        row
        for batch in _batches_as_rows(campaign=live.campaign, organization=live.orgs[0], batch=2)
        for row in batch
    ]
    assert fast == expected and len(fast) == 3
    assert all(row[1] != "other@example.org" for row in fast)


def test_the_export_file_escapes_formulas_and_names_no_other_cosponsors_supporter(client, live):
    supporter_confirmed(
        live.petition, name="+SUM(A1)", email="sum@example.org", consents=[live.orgs[0]]
    )
    client.force_login(live.admins[1])  # the co-sponsor it was not consented to
    url = reverse("campaigns:export", kwargs={"org": live.orgs[1].slug, "slug": live.campaign.slug})
    rows = list(csv.reader(io.StringIO(b"".join(client.get(url).streaming_content).decode())))
    assert rows[1:] == []
    client.force_login(live.admins[0])
    url = reverse("campaigns:export", kwargs={"org": live.orgs[0].slug, "slug": live.campaign.slug})
    rows = list(csv.reader(io.StringIO(b"".join(client.get(url).streaming_content).decode())))
    assert rows[1][:2] == ["'+SUM(A1)", "sum@example.org"]


# --- the batch decryption is Fernet's, check for check ------------------------------------------


def test_batch_decryption_equals_fernet_at_every_length_and_alphabet(settings):
    old = Fernet.generate_key().decode()
    texts = ["x" * n for n in range(0, 50)] + ["Мария Иванова", "🙂 ok", "a\tb\nc\\d", "'quoted'"]
    settings.ENCRYPTION_KEYS = [old]
    under_old = [encrypt(t) if t else "" for t in texts]
    settings.ENCRYPTION_KEYS = [Fernet.generate_key().decode(), old]  # a rotation under way
    under_new = [encrypt(t) if t else "" for t in texts]
    mixed = [token for pair in zip(under_old, under_new, strict=True) for token in pair]
    assert decrypt_many(mixed) == [decrypt(t) if t else "" for t in mixed]
    assert decrypt_many(mixed)[::2] == texts
    assert decrypt_many(under_new) == texts  # all under the newest key: the one-comparison path


def _forged(key: str, body: bytes) -> str:
    """A token whose tag is right for ``body`` under ``key``: only the key's holder can make it,
    and Fernet still refuses it if the body is not a proper token."""
    raw = base64.urlsafe_b64decode(key)
    tag = hmac.digest(raw[:16], body, "sha256")
    return base64.urlsafe_b64encode(body + tag).decode()


def _cbc(key: str, iv: bytes, padded: bytes) -> bytes:
    encryptor = Cipher(
        algorithms.AES(base64.urlsafe_b64decode(key)[16:]), modes.CBC(iv)
    ).encryptor()
    return encryptor.update(padded) + encryptor.finalize()


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(
            lambda key, iv: b"\x81" + bytes(8) + iv + _cbc(key, iv, b"x" * 15 + b"\x01"),
            id="version",
        ),
        pytest.param(lambda key, iv: b"\x80" + bytes(8) + iv, id="no ciphertext"),
        pytest.param(lambda key, iv: b"\x80" + bytes(8) + iv + b"x" * 20, id="partial block"),
        pytest.param(
            lambda key, iv: b"\x80" + bytes(8) + iv + _cbc(key, iv, b"x" * 15 + b"\x02"),
            id="padding byte",
        ),
        pytest.param(
            lambda key, iv: b"\x80" + bytes(8) + iv + _cbc(key, iv, b"x" * 16), id="padding value"
        ),
        pytest.param(
            lambda key, iv: b"\x80" + bytes(8) + iv + _cbc(key, iv, b"\xff" + b"\x0f" * 15),
            id="not UTF-8",
        ),
    ],
)
def test_batch_decryption_refuses_what_fernet_refuses_even_with_a_valid_tag(settings, body):
    key = Fernet.generate_key().decode()
    settings.ENCRYPTION_KEYS = [key]
    token = _forged(key, body(key, os.urandom(16)))
    with pytest.raises((ValueError, UnicodeError)):
        decrypt(token)
    good = encrypt("anna@example.org")
    with pytest.raises(ValueError):
        decrypt_many([good, token, good])


def test_batch_decryption_checks_every_tag_of_a_batch(settings):
    tokens = [encrypt(f"supporter{n}@example.org") for n in range(50)]
    raw = bytearray(base64.urlsafe_b64decode(tokens[37]))
    raw[30] ^= 1  # one ciphertext bit of one token among fifty
    tampered = [*tokens[:37], base64.urlsafe_b64encode(bytes(raw)).decode(), *tokens[38:]]
    with pytest.raises(ValueError):
        decrypt_many(tampered)
    assert decrypt_many(tokens) == [f"supporter{n}@example.org" for n in range(50)]


# --- CSV: the same bytes as csv.writer over csv_cell ---------------------------------------------

AWKWARD = [
    "plain",
    "",
    "a,b",
    'say "hi"',
    "two\nlines",
    "car\rreturn",
    " leading space",
    "tab\tinside",
    "=SUM(A1)",
    "+1",
    "-1",
    "@cmd",
    "\tstarts with a tab",
    "\rstarts with a return",
    "Мария",
    "back\\slash",
]


def test_csv_column_and_text_write_what_csv_writer_writes_over_csv_cell():
    assert csv_column(AWKWARD) == [csv_cell(value) for value in AWKWARD]
    plain = ["anna@example.org", "Riga", "2026-11-30T17:00:00+00:00"]
    assert csv_column(plain) is plain  # nothing to escape: the same list back
    for columns in ([AWKWARD, AWKWARD[::-1]], [plain, plain], [["x"], [""]], [[], []]):
        buffer = io.StringIO()
        csv.writer(buffer).writerows(zip(*columns, strict=True))
        assert csv_text(columns) == buffer.getvalue()


def _reference_file(campaign, organization) -> str:
    """The export as the model rows and csv.writer over csv_cell write it (the slow path)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["name", "email", "country", "city", "petition", "confirmed_at", "updates"])
    for name, email, country, city, slug, when, wants in selectors.supporters_for_export(
        campaign=campaign, organization=organization
    ):
        writer.writerow(
            [
                csv_cell(name),
                csv_cell(email),
                country,
                csv_cell(city),
                slug,
                when.isoformat() if when else "",
                "yes" if wants else "no",
            ]
        )
    return buffer.getvalue()


def test_the_export_file_is_byte_for_byte_the_model_rows_through_csv_writer(client, live):
    second = services.petition_create(
        campaign=live.campaign,
        organization=live.orgs[0],
        user=live.admins[0],
        title_en="A second petition",
        text_en="Also this.",
        addressed_to="Parliament",
    )
    names = AWKWARD[:]
    for n, name in enumerate(names):
        signature = supporter_confirmed(
            (live.petition, second)[n % 2],
            name=name or "Anonymous",
            email=f"s{n}@example.org",
            city=AWKWARD[-1 - n],
            consents=[live.orgs[0]],
        )
        when = datetime(2026, 11, 30, 17, 0, n, 1000 * n, tzinfo=UTC)  # n = 0: no fraction
        Signature.objects.filter(pk=signature.pk).update(
            confirmed_at=when, wants_updates=n % 3 == 0
        )
    # COPY's text format escapes a tab, a newline or a backslash in any value it sends.
    Signature.objects.filter(pk=signature.pk).update(country="\t\\")
    client.force_login(live.admins[0])
    url = reverse("campaigns:export", kwargs={"org": live.orgs[0].slug, "slug": live.campaign.slug})
    body = b"".join(client.get(url).streaming_content).decode()
    assert body == _reference_file(live.campaign, live.orgs[0])
    assert body.count("\r\n") >= len(names) + 1 and "'=SUM(A1)" in body


# --- one snapshot for the whole file ---------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_supporter_confirmed_while_the_file_streams_is_not_in_it():
    """The file reads one petition after another: all in one snapshot (REPEATABLE READ), so a
    signature confirmed meanwhile in a later petition is in no part of it."""
    if connection.vendor != "postgresql":
        pytest.skip("the export's COPY and REPEATABLE READ snapshot are PostgreSQL's")
    live = live_campaign_make(issue_area_make())
    second = services.petition_create(
        campaign=live.campaign,
        organization=live.orgs[0],
        user=admin_of(live.orgs[0]),
        title_en="A second petition",
        text_en="Also this.",
        addressed_to="Parliament",
    )
    for n in range(3):
        supporter_confirmed(
            live.petition, name=f"Early {n}", email=f"early{n}@example.org", consents=[live.orgs[0]]
        )

    def sign_meanwhile() -> None:
        try:
            supporter_confirmed(
                second, name="Late", email="late@example.org", consents=[live.orgs[0]]
            )
        finally:
            connection.close()

    assert not connection.in_atomic_block
    batches = _batches_as_rows(campaign=live.campaign, organization=live.orgs[0], batch=2)
    rows = next(batches)  # the first petition's first rows: the snapshot is taken
    thread = threading.Thread(target=sign_meanwhile)
    thread.start()
    thread.join()
    rows += [row for batch in batches for row in batch]
    assert [row[0] for row in rows] == ["Early 0", "Early 1", "Early 2"]
    assert Signature.objects.filter(petition=second, status=Signature.Status.CONFIRMED).count() == 1
