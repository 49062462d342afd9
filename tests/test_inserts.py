"""foundation/inserts.py: the one-statement inserts of the sign POST's rows (issue 11) leave the
row exactly as ``save()`` would, encrypted fields included."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.models import Value
from django.db.models.functions import Now, Upper
from django.test.utils import CaptureQueriesContext

from campaigns.models import Signature
from foundation import inserts
from foundation.inserts import row_insert, row_insert_unless_exists
from members.models import Organization
from outbox.models import Email
from outbox.services import email_enqueue

pytestmark = pytest.mark.django_db


def test_row_insert_is_one_statement_and_leaves_the_row_as_save_does() -> None:
    email = Email(kind="test.kind", to="Person <person@example.org>", subject="Hi", body_text="b")
    with CaptureQueriesContext(connection) as queries:
        inserted = row_insert(email)
    assert inserted is email
    assert len(queries) == 1
    assert queries[0]["sql"].startswith('INSERT INTO "outbox_email"')
    assert email.pk and not email._state.adding and email._state.db == "default"
    stored = Email.objects.get(pk=email.pk)
    assert stored.to == "Person <person@example.org>" and stored.created_at == email.created_at
    with connection.cursor() as cursor:  # the recipient is encrypted at rest, as with save()
        cursor.execute('SELECT "to" FROM outbox_email WHERE id = %s', [email.pk])
        raw = cursor.fetchone()[0]
    assert "person@example.org" not in raw


def test_the_outbox_row_of_email_enqueue_is_the_same_as_before() -> None:
    email = email_enqueue(kind="test.kind", to="a@example.org", subject="S", body_text="B")
    stored = Email.objects.get(pk=email.pk)
    assert (stored.to, stored.subject, stored.status) == ("a@example.org", "S", Email.Status.QUEUED)
    assert stored.body_text == email.body_text and stored.body_text.strip() == "B"
    assert (
        stored.message_id == email.message_id and stored.recipient_digest == email.recipient_digest
    )


def test_a_recipe_rows_json_arguments_round_trip() -> None:
    email = row_insert(Email(kind="k", to="b@example.org", render_args={"signature": 7, "t": "é"}))
    assert Email.objects.get(pk=email.pk).render_args == {"signature": 7, "t": "é"}


def test_row_insert_unless_exists_writes_nothing_over_a_unique_row(live) -> None:
    petition = live.petition
    first = Signature(
        petition=petition, name="A", email="a@example.org", email_digest="d" * 64, country="DE"
    )
    assert row_insert_unless_exists(first) is first and first.pk
    again = Signature(
        petition=petition, name="B", email="a@example.org", email_digest="d" * 64, country="FR"
    )
    assert row_insert_unless_exists(again) is None
    assert again.pk is None
    assert Signature.objects.filter(email_digest="d" * 64).count() == 1


def test_what_save_refuses_is_refused_and_a_failed_insert_rolls_the_block_back(live) -> None:
    unsaved = Organization(name="Not saved", slug="not-saved")
    signature = Signature(
        petition=live.petition,
        name="A",
        email="e@example.org",
        email_digest="e" * 64,
        source=unsaved,
    )
    with pytest.raises(ValueError, match="unsaved related object"):
        row_insert(signature)  # save() refuses it too, instead of writing no source
    with pytest.raises(TypeError):
        row_insert(Email(pk=10**9, kind="k", to="c@example.org"))
    with transaction.atomic():
        row_insert(Email(kind="k", to="d@example.org", message_id="<same@example.org>"))
        with pytest.raises(IntegrityError):
            row_insert(Email(kind="k", to="e@example.org", message_id="<same@example.org>"))
        assert transaction.get_rollback()  # as after save(): the block cannot commit half
    assert not Email.objects.filter(message_id="<same@example.org>").exists()


def _email(to: str, **fields: object) -> Email:
    fields.setdefault("kind", "k")
    return Email(to=to, message_id=f"<{to}>", **fields)  # a message id is unique


def _insert_prefix(sql: str) -> str:
    return sql.split(" VALUES ", 1)[0]


def test_the_statement_is_the_one_django_writes_and_is_built_once() -> None:
    with CaptureQueriesContext(connection) as saved:
        _email("f@example.org").save()
    with CaptureQueriesContext(connection) as inserted:
        row_insert(_email("g@example.org"))
        row_insert(_email("h@example.org"))
    first, second = (q["sql"] for q in inserted.captured_queries)
    # Same columns in the same order, the same RETURNING: only the values differ.
    assert _insert_prefix(first) == _insert_prefix(saved.captured_queries[-1]["sql"])
    assert first.endswith('RETURNING "outbox_email"."id"')
    assert _insert_prefix(first) == _insert_prefix(second)
    assert inserts._statements[(Email, "default", None)].sql is not None


def test_a_value_that_is_an_expression_is_written_by_djangos_insert() -> None:
    # Django writes an expression as SQL; a parameter would fail to adapt or store its text.
    email = row_insert(_email("i@example.org", kind=Upper(Value("expression.kind"))))
    assert Email.objects.get(pk=email.pk).kind == "EXPRESSION.KIND"
    signed_at = row_insert(_email("j@example.org", created_at=Now()))
    assert Email.objects.filter(pk=signed_at.pk, created_at__isnull=False).exists()


def test_what_a_signer_types_is_a_value_never_sql(live) -> None:
    # The statement's text is built once; what a form posts only ever reaches it as parameters.
    typed = "O'Brien\"); DROP TABLE campaigns_signature; -- %s %(x)s {0}"
    signature = row_insert(
        Signature(
            petition=live.petition,
            name=typed,
            email="typed@example.org",
            email_digest="f" * 64,
            country="DE",
            city=typed,
        )
    )
    stored = Signature.objects.get(pk=signature.pk)
    assert (stored.name, stored.city) == (typed, typed)
