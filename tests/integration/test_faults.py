"""Fault tests with the real services: what happens to signatures when Redis goes away."""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.test import override_settings
from django.urls import reverse

from campaigns.models import Signature
from outbox.models import Email
from tests.integration.conftest import _require_services, run_worker, wait_until

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_signing_works_with_redis_down_and_mail_goes_out_when_it_is_back(
    client,
    live,
    smtp_server,
    private_redis,
):
    _require_services()
    inbox, smtp_port = smtp_server
    cache = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": private_redis.url,
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        },
        # the page cache's per-process fragments (campaigns/page_cache.py) are not Redis
        "fragments": settings.CACHES["fragments"],
    }
    with (
        run_worker(redis_url=private_redis.url, smtp_port=smtp_port),
        override_settings(CACHES=cache),
    ):
        private_redis.stop()  # broker and cache are gone
        response = client.post(
            reverse("campaigns:petition", args=[live.petition.slug]),
            {
                "name": "Olga Smirnova",
                "email": "olga@example.org",
                "country": "FI",
                "display": "anonymous",
            },
        )
        assert response.status_code == 302  # the signer is not failed by our outage
        assert Signature.objects.filter(email_digest__isnull=False).count() == 1
        assert Email.objects.get(kind="campaigns.confirm").status == Email.Status.QUEUED

        private_redis.start()  # back: the relay hands the row to the worker
        messages = inbox.wait_for(lambda msgs: any(m["To"] == "olga@example.org" for m in msgs))
    confirmations = [m for m in messages if m["To"] == "olga@example.org"]
    assert len(confirmations) == 1
    body = confirmations[0].get_payload(decode=True).decode()
    assert re.search(r"/signatures/confirm/\S+/", body)
    wait_until(lambda: Email.objects.get(kind="campaigns.confirm").status == Email.Status.SENT)
