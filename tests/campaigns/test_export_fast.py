"""The supporter export's fast path (issue 11): COPY out of PostgreSQL and the encrypted columns
of a batch decrypted together. It must give exactly what the model fields give."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pytest
from cryptography.fernet import Fernet
from django.urls import reverse

from campaigns import selectors, services
from campaigns.models import Signature
from campaigns.signing import token_make
from foundation.crypto import decrypt, decrypt_many, encrypt

pytestmark = pytest.mark.django_db


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
        signature = services.signature_create(
            petition=live.petition,
            name=f"=Supporter {n}",
            email=f"s{n}@example.org",
            country="DE",
            city="" if n else "Riga",
            consents=[live.orgs[0]],
        )
        services.signature_confirm(token=token_make(signature.pk, "confirm"))
        Signature.objects.filter(pk=signature.pk).update(confirmed_at=confirmed_at)
    other = services.signature_create(  # consented to the other co-sponsor only
        petition=live.petition,
        name="Other",
        email="other@example.org",
        country="DE",
        consents=[live.orgs[1]],
    )
    services.signature_confirm(token=token_make(other.pk, "confirm"))
    expected = [
        (name, email, country, city, slug, when.isoformat(), wants)
        for name, email, country, city, slug, when, wants in selectors.supporters_for_export(
            campaign=live.campaign, organization=live.orgs[0]
        )
    ]
    fast = [
        row
        for batch in selectors.supporters_for_export_batches(
            campaign=live.campaign, organization=live.orgs[0], batch=2
        )
        for row in batch
    ]
    assert fast == expected and len(fast) == 3
    assert all(row[1] != "other@example.org" for row in fast)


def test_the_export_file_escapes_formulas_and_names_no_other_cosponsors_supporter(client, live):
    signature = services.signature_create(
        petition=live.petition,
        name="+SUM(A1)",
        email="sum@example.org",
        country="DE",
        consents=[live.orgs[0]],
    )
    services.signature_confirm(token=token_make(signature.pk, "confirm"))
    client.force_login(live.admins[1])  # the co-sponsor it was not consented to
    url = reverse("campaigns:export", kwargs={"org": live.orgs[1].slug, "slug": live.campaign.slug})
    rows = list(csv.reader(io.StringIO(b"".join(client.get(url).streaming_content).decode())))
    assert rows[1:] == []
    client.force_login(live.admins[0])
    url = reverse("campaigns:export", kwargs={"org": live.orgs[0].slug, "slug": live.campaign.slug})
    rows = list(csv.reader(io.StringIO(b"".join(client.get(url).streaming_content).decode())))
    assert rows[1][:2] == ["'+SUM(A1)", "sum@example.org"]
