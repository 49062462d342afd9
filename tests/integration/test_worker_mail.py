"""End to end through the real worker: outbox → Redis → Celery → SMTP on loopback."""

from __future__ import annotations

import re
import time
from datetime import timedelta

import pytest
from allauth.account.models import EmailAddress
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from members.models import Decision, Organization
from members.services import organization_apply, organization_screen
from members.tasks import decisions_close_due
from outbox.models import Email
from outbox.services import email_enqueue
from tests.factories import PASSWORD, MemberOrganizationFactory, UserFactory, make_admin
from tests.integration.conftest import wait_until

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def _body(message) -> str:
    part = message.get_payload(0) if message.is_multipart() else message
    return part.get_payload(decode=True).decode()


def test_sign_up_confirmation_travels_through_worker_and_smtp(client, celery_worker, smtp_server):
    inbox, _port = smtp_server
    response = client.post(
        reverse("account_signup"),
        {"email": "newcomer@example.org", "password1": PASSWORD, "password2": PASSWORD},
    )
    assert response.status_code == 302
    # the request only wrote a row: nothing was sent inside it
    assert Email.objects.get().status in {Email.Status.QUEUED, Email.Status.SENDING}
    messages = inbox.wait_for(lambda msgs: len(msgs) >= 1)
    assert messages[0]["To"] == "newcomer@example.org"
    link = re.search(r"https?://testserver(/accounts/confirm-email/\S+/)", _body(messages[0]))
    assert link is not None
    assert client.post(link.group(1)).status_code == 302
    assert EmailAddress.objects.get(email="newcomer@example.org").verified
    wait_until(lambda: Email.objects.get().status == Email.Status.SENT)


def test_worker_closes_due_decision_and_emails_the_organizations(celery_worker, smtp_server):
    inbox, _port = smtp_server
    members = MemberOrganizationFactory.create_batch(2)
    for organization in members:
        make_admin(organization)
    applicant = organization_apply(
        user=UserFactory(),
        name="Integration Applicant",
        country_of_registration="FI",
        countries_of_operation=["FI"],
        website="https://fi.example.org/",
        mission="Help in Finland.",
        languages=["en"],
        legal_status="ngo",
        funding_disclosure="None.",
        contact_email="applicant@example.org",
    )
    organization_screen(organization=applicant, by=UserFactory(is_staff=True), admit=True)
    inbox.wait_for(lambda msgs: len(msgs) >= 2)  # "decision opened" to both members
    Decision.objects.filter(organization=applicant).update(
        deadline=timezone.now() - timedelta(seconds=1)
    )
    decisions_close_due.delay()  # through Redis, as beat would
    expected = {m.contact_email for m in members} | {"applicant@example.org"}
    # two "decision opened" messages came first; then one "closed" message per organization
    messages = inbox.wait_for(lambda msgs: len(msgs) >= 5)
    assert {m["To"] for m in messages[2:]} == expected
    wait_until(
        lambda: Email.objects.filter(kind="members.decision_closed", status="sent").count() == 3
    )
    decision = Decision.objects.get(organization=applicant)
    assert decision.status == Decision.Status.CLOSED
    assert decision.outcome == Decision.Outcome.REJECTED  # nobody voted: no quorum
    applicant.refresh_from_db()
    assert applicant.status == Organization.Status.REJECTED


def test_temporary_smtp_refusal_is_retried_until_delivered(celery_worker, smtp_server, settings):
    inbox, _port = smtp_server
    inbox.refuse_with = "451 4.3.0 try again later"
    from outbox.services import email_enqueue

    email = email_enqueue(kind="test", to="retry@example.org", subject="Retry", body_text="x")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        email.refresh_from_db()
        if email.attempts >= 1 and email.status == Email.Status.QUEUED:
            break
        time.sleep(0.2)
    assert email.status == Email.Status.QUEUED
    assert "451" in email.last_error
    inbox.refuse_with = None
    Email.objects.filter(pk=email.pk).update(next_attempt_at=timezone.now())  # skip the backoff
    inbox.wait_for(lambda msgs: any(m["To"] == "retry@example.org" for m in msgs))
    assert sum(1 for m in inbox.messages if m["To"] == "retry@example.org") == 1


def test_worker_keeps_sending_after_postgresql_drops_its_connections(celery_worker, smtp_server):
    """The worker keeps its database connections across tasks (CELERY_DB_REUSE_MAX): when
    PostgreSQL drops them, as a restart does, mail goes on without waiting for the sweep."""
    inbox, _port = smtp_server
    email_enqueue(kind="test", to="first@example.org", subject="First", body_text="One.\n")
    inbox.wait_for(lambda msgs: len(msgs) >= 1)
    # What a PostgreSQL restart does to the worker's connections, without restarting the
    # server that other test runs share: end every session of this database but ours.
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        assert cursor.fetchall(), "the worker held no database connection to drop"
    email_enqueue(kind="test", to="second@example.org", subject="Second", body_text="Two.\n")
    # Well within the sweep's 300 s: the relay and the send ran on fresh connections at once.
    messages = inbox.wait_for(lambda msgs: len(msgs) >= 2, timeout=30)
    assert [m["To"] for m in messages] == ["first@example.org", "second@example.org"]


def test_before_each_task_a_dropped_database_connection_is_replaced(transactional_db):
    """The check itself, deterministically: the first query after a drop must not fail.

    Without it, a task that is not wrapped in a transaction (outbox_send claims its row with a
    plain UPDATE) fails on the dead connection, and its email waits for the sweep (5 minutes).
    """
    from types import SimpleNamespace

    import psycopg

    from coalition.celery import _database_connections_checked

    connection.ensure_connection()
    pid = connection.connection.info.backend_pid
    db = connection.settings_dict
    admin = f"postgresql://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    with psycopg.connect(admin, autocommit=True) as other:
        other.execute("SELECT pg_terminate_backend(%s)", [pid])
    worker_task = SimpleNamespace(request=SimpleNamespace(is_eager=False))
    _database_connections_checked(task=worker_task)  # type: ignore[arg-type]
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        assert cursor.fetchone() == (1,)
    assert connection.connection.info.backend_pid != pid
