"""The newcomer's walk (issue 15): readable development mail, links on the port served, demo data
that reads right."""

from __future__ import annotations

import email
import email.policy
from pathlib import Path

import pytest
from django.core import mail
from django.test import Client, override_settings
from django.urls import reverse

from coalition import devmail

LINK = "http://127.0.0.1:8001/petitions/visas/confirm/" + "x" * 90 + "/"
DEV_MAILERS = {"default": {"BACKEND": devmail.BACKEND, "OPTIONS": {}}}


@pytest.fixture
def mail_dir(tmp_path: Path, settings) -> Path:
    settings.MAIL_DIR = tmp_path
    settings.MAILERS = {
        "default": {"BACKEND": devmail.BACKEND, "OPTIONS": {"file_path": str(tmp_path)}}
    }
    return tmp_path


def _send(subject: str, body: str) -> None:
    mail.EmailMessage(subject, body, to=["olga@example.org"]).send()


def test_each_message_is_one_utf8_file_with_whole_links_that_sort_by_time(mail_dir: Path) -> None:
    _send("Подтвердите подпись", f"Здравствуйте, Ольга! Подтвердите: {LINK}")
    _send("Second", "Another message")
    files = sorted(p.name for p in mail_dir.iterdir())
    assert len(files) == 2 and all(name.endswith(".eml") for name in files)
    first = (mail_dir / files[0]).read_bytes()
    assert "Здравствуйте, Ольга!".encode() in first  # not base64
    assert LINK.encode() in first  # not split by quoted-printable
    assert b"Content-Transfer-Encoding: 8bit" in first
    parsed = email.message_from_bytes(first, policy=email.policy.default)
    assert parsed["Subject"] == "Подтвердите подпись"
    assert "Second" in (mail_dir / files[1]).read_text()  # file names sort oldest first


def test_attachments_are_left_as_they_were(mail_dir: Path) -> None:
    message = mail.EmailMessage("With file", "Body", to=["olga@example.org"])
    message.attach("evidence.pdf", b"%PDF-1.4 \x00\xff binary", "application/pdf")
    message.send()
    (path,) = mail_dir.iterdir()
    parsed = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    (attachment,) = parsed.iter_attachments()
    assert attachment.get_content() == b"%PDF-1.4 \x00\xff binary"


@override_settings(DEBUG=True)
def test_development_page_lists_mail_newest_first_with_clickable_links(
    mail_dir: Path, client: Client
) -> None:
    _send("Older", "first")
    _send("Подтвердите подпись", f"Подтвердите: {LINK}")
    response = client.get(reverse("dev-mailbox"))
    assert response.status_code == 200
    html = response.content.decode()
    assert html.index("Подтвердите подпись") < html.index("Older")
    assert f'<a href="{LINK}"' in html


def test_the_page_does_not_exist_outside_debug(mail_dir: Path, client: Client) -> None:
    _send("Secret", "a confirmation link")
    assert client.get(reverse("dev-mailbox")).status_code == 404


@override_settings(
    DEBUG=True, MAILERS={"default": {"BACKEND": "django.core.mail.backends.smtp.EmailBackend"}}
)
def test_the_page_does_not_exist_when_mail_really_goes_out(client: Client) -> None:
    assert client.get(reverse("dev-mailbox")).status_code == 404


def test_run_dev_points_links_at_the_port_it_serves(tmp_path: Path) -> None:
    """``PORT=8001 make run`` runs ``bin/run-dev 8001``: every process it starts builds absolute
    links (mail, API urls, the widget snippet) with :8001, unless the site URL is set."""
    import os
    import subprocess

    bin_dir = tmp_path / "venv" / "bin"
    bin_dir.mkdir(parents=True)
    seen = tmp_path / "seen"
    stub = f'#!/bin/sh\necho "$* $COALITION_SITE_URL" >> {seen}\n'
    for name in ("python", "celery"):
        (bin_dir / name).write_text(stub)
        (bin_dir / name).chmod(0o755)
    root = Path(__file__).resolve().parent.parent
    env = {k: v for k, v in os.environ.items() if k not in {"REDIS_URL", "COALITION_SITE_URL"}}
    env["VENV"] = str(tmp_path / "venv")
    subprocess.run([root / "bin" / "run-dev", "8001"], env=env, cwd=root, check=True, timeout=30)  # noqa: S603
    lines = seen.read_text().splitlines()
    assert any(line.startswith("manage.py runserver 127.0.0.1:8001 ") for line in lines)
    assert all(line.endswith(" http://127.0.0.1:8001") for line in lines), lines
    env["COALITION_SITE_URL"] = "https://coalition.example"
    seen.unlink()
    subprocess.run([root / "bin" / "run-dev", "8001"], env=env, cwd=root, check=True, timeout=30)  # noqa: S603
    assert all(
        line.endswith(" https://coalition.example") for line in seen.read_text().splitlines()
    )


def test_demo_signers_names_agree_in_gender() -> None:
    import random

    from campaigns.demo import FIRST_FEMALE, FIRST_MALE, demo_name

    rng = random.Random(1)
    names = [demo_name(rng).split() for _ in range(500)]
    assert {first for first, _ in names} == set(FIRST_MALE) | set(FIRST_FEMALE)
    for first, last in names:
        assert last.endswith("a") == (first in FIRST_FEMALE), f"{first} {last}"
