"""Project-level behaviour: settings from the environment, commands, demo data."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from members.models import Decision, Organization, User, Vote
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


PRODUCTION = {
    "DJANGO_SECRET_KEY": "a-long-random-production-secret-for-this-test-0123456789-abcdefgh",
    "DJANGO_ALLOWED_HOSTS": "coalition.example",
    "COALITION_ENCRYPTION_KEYS": "3q1pQ8sCqKQvzAxjS2U1k0bA2gM7yGg0nZ9wB4cX5Vc=",
}


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


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("COALITION_REQUIRE_ADMIN_MFA", "ture", "is not a yes/no value"),
        ("DJANGO_SECURE_SSL_REDIRECT", "enabled", "is not a yes/no value"),
        ("COALITION_CAMPAIGN_MIN_COSPONSORS", "two", "is not a whole number"),
        ("COALITION_DECISION_QUORUM", "half", "is not a number"),
        ("COALITION_DECISION_QUORUM", "nan", "is not a number"),
        ("COALITION_EVIDENCE_ACCOUNT_DELAY_DAYS", "two weeks", "is not a whole number"),
        ("COALITION_EVIDENCE_ACCOUNT_RELEASE_EVERY_DAYS", "weekly", "is not a whole number"),
        ("COALITION_EVIDENCE_REDACTION_MAX_SIMILARITY", "high", "is not a number"),
    ],
)
def test_a_setting_that_cannot_be_read_stops_start_up_naming_it(variable, value, message):
    # Read as "off", COALITION_REQUIRE_ADMIN_MFA=ture switched admin two-factor off unnoticed.
    result = _manage("check", DJANGO_DEBUG="0", **{variable: value}, **PRODUCTION)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert f"{variable}={value!r} {message}" in result.stderr


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("COALITION_EVIDENCE_ACCOUNT_RELEASE_EVERY_DAYS", "0", "must be at least 1"),
        ("COALITION_EVIDENCE_ACCOUNT_DELAY_DAYS", "-1", "must be at least"),
        ("COALITION_EVIDENCE_ACCOUNT_DELAY_DAYS", "0", "must be at least"),
        ("COALITION_EVIDENCE_ACCOUNT_DELAY_DAYS", "6", "must be at least"),
        ("COALITION_EVIDENCE_REDACTION_MAX_SIMILARITY", "1.5", "must be above 0 and below 1"),
        ("COALITION_EVIDENCE_REDACTION_MAX_SIMILARITY", "0", "must be above 0 and below 1"),
    ],
)
def test_case_report_publication_settings_out_of_range_stop_start_up(variable, value, message):
    # Read in code with defaults, a bad value went unnoticed until a release day divided by zero
    # or published a reporter's words with a word changed.
    result = _manage("check", DJANGO_DEBUG="0", **{variable: value}, **PRODUCTION)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert variable in result.stderr and message in result.stderr


def test_case_report_publication_settings_are_read_from_the_environment():
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "COALITION_"))}
    result = subprocess.run(
        [sys.executable, "-c", "import django; from django.conf import settings; django.setup(); "
         "print(settings.EVIDENCE_ACCOUNT_RELEASE_EVERY_DAYS, settings.EVIDENCE_ACCOUNT_DELAY_DAYS,"
         " settings.EVIDENCE_REDACTION_MAX_SIMILARITY)"],
        cwd=ROOT, env={**clean, "DJANGO_SETTINGS_MODULE": "coalition.settings", "DJANGO_DEBUG": "1",
                       "COALITION_EVIDENCE_ACCOUNT_RELEASE_EVERY_DAYS": "3",
                       "COALITION_EVIDENCE_ACCOUNT_DELAY_DAYS": "21",
                       "COALITION_EVIDENCE_REDACTION_MAX_SIMILARITY": "0.6"},
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["3", "21", "0.6"]


def test_test_mode_refuses_to_serve_a_public_host():
    result = _manage(
        "check", DJANGO_DEBUG="0", COALITION_TESTING="1", DJANGO_ALLOWED_HOSTS="coalition.example"
    )
    assert result.returncode != 0
    assert "COALITION_TESTING is set while DJANGO_ALLOWED_HOSTS names coalition.example" in (
        result.stderr
    )


def test_yes_no_settings_accept_the_usual_spellings(monkeypatch):
    from coalition.settings import env_bool, env_float, env_int

    for value, expected in [("1", True), (" Yes ", True), ("ON", True), ("off", False),
                            ("0", False), ("False", False), ("", True)]:  # fmt: skip
        monkeypatch.setenv("COALITION_X", value)
        assert env_bool("COALITION_X", True) is expected
    monkeypatch.setenv("COALITION_X", " 42 ")
    assert env_int("COALITION_X", 1) == 42
    assert env_float("COALITION_X", 1.0) == 42.0


def test_test_mode_is_set_explicitly_never_guessed_from_imports():
    # The pytest session itself is in test mode (pyproject.toml), but does not hand that on to
    # the processes its tests start.
    from django.conf import settings

    assert settings.TESTING is True
    assert "COALITION_TESTING" not in os.environ
    # A process that merely imports pytest (a management command, a library) is not testing.
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "COALITION_"))}
    result = subprocess.run(
        [sys.executable, "-c", "import pytest, django; from django.conf import settings; "
         "django.setup(); print(settings.TESTING)"],
        cwd=ROOT, env={**clean, "DJANGO_SETTINGS_MODULE": "coalition.settings",
                       "DJANGO_DEBUG": "1"},
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"


@pytest.mark.django_db
def test_seed_demo_refuses_in_production_mode_and_creates_nothing(settings):
    # Its accounts share a password published in the repository.
    settings.DEBUG = False
    with pytest.raises(CommandError, match=r"password is published.*Nothing was created"):
        call_command("seed_demo")
    assert not User.objects.exists()
    assert not Organization.objects.exists()


@pytest.mark.django_db
def test_seed_demo_runs_without_debug_only_when_told_the_database_is_not_production(settings):
    settings.DEBUG = False
    call_command("seed_demo", "--i-know-this-is-not-production")
    assert Organization.objects.filter(status=Organization.Status.MEMBER).exists()


@pytest.mark.django_db
def test_seed_demo_is_idempotent(settings):
    settings.DEBUG = True
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
def test_demo_vote_in_production_mode_casts_and_closes_nothing(settings):
    settings.DEBUG = True
    call_command("seed_demo")
    votes = Vote.objects.count()
    settings.DEBUG = False
    with pytest.raises(CommandError, match="development only"):
        call_command("demo_vote", "--close")
    assert Vote.objects.count() == votes
    assert Decision.objects.filter(status=Decision.Status.OPEN).exists()


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
