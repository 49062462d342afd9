"""Project-level behaviour: settings from the environment, commands, demo data."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from members.models import Decision, Organization, Vote
from outbox.models import Email
from tests.factories import OrganizationFactory, make_admin

ROOT = Path(__file__).resolve().parents[1]


def _manage(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "COALITION_"))}
    return subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_production_without_secret_key_stops_with_a_clear_message():
    result = _manage("check", DJANGO_DEBUG="0")
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY is not set" in result.stderr


def test_deploy_checks_pass_in_production_mode():
    result = _manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DJANGO_DEBUG="0",
        DJANGO_SECRET_KEY="a-long-random-production-secret-for-this-test-0123456789-abcdefgh",
        DJANGO_ALLOWED_HOSTS="coalition.example",
        COALITION_ENCRYPTION_KEYS="3q1pQ8sCqKQvzAxjS2U1k0bA2gM7yGg0nZ9wB4cX5Vc=",
    )
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


@pytest.mark.django_db
def test_seed_demo_is_idempotent():
    call_command("seed_demo")
    counts = (Organization.objects.count(), Decision.objects.count(), Vote.objects.count())
    call_command("seed_demo")
    assert (Organization.objects.count(), Decision.objects.count(), Vote.objects.count()) == counts
    assert Organization.objects.filter(status=Organization.Status.MEMBER).count() == 5
    pending = Decision.objects.get(status=Decision.Status.OPEN)
    assert pending.votes.count() == 2
    # demo data never addresses a real mailbox: only reserved example domains (RFC 2606)
    reserved = (".example", "@example.org", ".example.org", "@example.com")
    assert Email.objects.exists()
    assert all(e.to.endswith(reserved) for e in Email.objects.all()), [
        e.to for e in Email.objects.all() if not e.to.endswith(reserved)
    ]


@pytest.mark.django_db
def test_admit_founding_member_command():
    organization = OrganizationFactory(slug="founder")
    make_admin(organization)
    call_command("admit_founding_member", "founder")
    organization.refresh_from_db()
    assert organization.status == Organization.Status.MEMBER
    with pytest.raises(CommandError, match="already a member"):
        call_command("admit_founding_member", "founder")
    with pytest.raises(CommandError, match="No organization"):
        call_command("admit_founding_member", "nobody")


@pytest.mark.django_db
def test_demo_vote_refuses_outside_debug(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="development only"):
        call_command("demo_vote")


@pytest.mark.django_db
def test_demo_vote_lets_demo_members_decide_a_new_application(settings):
    settings.DEBUG = True
    call_command("seed_demo")
    call_command("demo_vote", "--close")
    pending = Decision.objects.get(organization__name="Prague Civic Initiative")
    assert pending.status == Decision.Status.CLOSED
    assert pending.outcome == Decision.Outcome.ADOPTED
    assert Organization.objects.get(name="Prague Civic Initiative").is_member


@pytest.mark.django_db
def test_pages_with_personal_data_are_never_cached_and_features_are_off(client):
    from tests.factories import UserFactory

    public = client.get("/")
    assert "camera=()" in public["Permissions-Policy"]
    assert "no-store" not in public.get("Cache-Control", "")
    assert "no-store" in client.get("/signatures/confirm/x/")["Cache-Control"]
    client.force_login(UserFactory())
    assert "no-store" in client.get("/dashboard/")["Cache-Control"]
    assert "no-store" in client.get("/")["Cache-Control"]


@pytest.mark.django_db
def test_database_outage_answers_503_not_500(client, monkeypatch):
    from django.db import OperationalError

    from coalition import views

    def broken(*args, **kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr(views.member_selectors, "organizations_members", broken)
    response = client.get("/")
    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    assert "Nothing was saved" in response.content.decode()


def test_json_logs_carry_the_request_id(client, settings):
    import json as jsonlib
    import logging

    from pythonjsonlogger.json import JsonFormatter

    from coalition.middleware import RequestIdFilter, request_id_var

    token = request_id_var.set("abc123def456")
    try:
        record = logging.LogRecord("x", logging.INFO, __file__, 1, "hello", None, None)
        RequestIdFilter().filter(record)
        line = JsonFormatter("%(message)s %(request_id)s").format(record)
    finally:
        request_id_var.reset(token)
    assert jsonlib.loads(line) == {"message": "hello", "request_id": "abc123def456"}


@pytest.mark.django_db
def test_the_embedded_periodic_runner_runs_every_beat_job(capsys, caplog):
    call_command("run_periodic", "--once")
    assert "periodic job failed" not in caplog.text
