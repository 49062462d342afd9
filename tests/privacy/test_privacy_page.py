"""Issue 16: the privacy page says exactly what is kept and for how long, from the settings the
deleting jobs read, in English and in Russian."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import LazySettings
from django.test import Client
from django.urls import reverse

pytestmark = pytest.mark.django_db


@pytest.fixture
def odd_retention(settings: LazySettings) -> None:
    """Values no sentence could contain by accident."""
    settings.SIGNATURE_CONFIRM_WITHIN = timedelta(days=11)
    settings.PERSONAL_DATA_RETENTION_AFTER_CLOSE = timedelta(days=93)
    settings.HIGH_SECURITY_RETENTION_AFTER_CLOSE = timedelta(days=6)
    settings.SENT_MAIL_RETENTION = timedelta(days=37)
    settings.WEBHOOKS_PAYLOAD_RETENTION = timedelta(days=29)
    settings.EVIDENCE_CONFIRM_WITHIN = timedelta(days=8)
    settings.EVIDENCE_REJECTED_RETENTION = timedelta(days=31)
    settings.EVIDENCE_UNREVIEWED_RETENTION = timedelta(days=181)
    settings.EVIDENCE_CONTACT_RETENTION = timedelta(days=366)
    settings.NOJS_MIN_SECONDS = 4


def _page(client: Client, language: str) -> str:
    response = client.get(reverse("privacy:privacy") + f"?lang={language}")
    assert response.status_code == 200
    return " ".join(response.content.decode().split())


def test_the_privacy_page_names_the_configured_periods(client: Client, odd_retention) -> None:
    page = _page(client, "en")
    assert "A signature not confirmed within 11 days is deleted." in page
    assert "then deleted 93 days later" in page
    assert "delete signers' data 6 days after closing" in page
    assert "Mail we sent you is deleted after 37 days." in page
    assert "emptied after 29 days" in page
    assert "unconfirmed ones are deleted after 8 days, rejected ones 31 days" in page
    assert "after 181 days" in page and "after 366 days" in page
    assert "open for at least 4 seconds" in page
    assert "the key changes every day and is destroyed after two days" in page
    for stale in ("after 7 days", "90 days after", "after 30 days", "expires within hours"):
        assert stale not in page


def test_the_russian_privacy_page_says_the_same(client: Client, odd_retention) -> None:
    page = _page(client, "ru")
    assert "Подпись, не подтверждённая в течение 11 дней, удаляется." in page
    assert "удаляются через 93 дня после него" in page
    assert "через 6 дней после закрытия" in page
    assert "удаляются через 37 дней" in page
    assert "очищается через 29 дней" in page
    assert "неподтверждённые удаляются через 8 дн." in page
    assert "хотя бы 4 секунды" in page
    assert "ключ меняется каждый день и уничтожается через два дня" in page
