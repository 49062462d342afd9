"""The access log: one line per request, never a signer's token, address or browser.

gunicorn's access log wrote every confirm, withdraw and erasure link with its token, and the
client's address; the site now logs requests itself (coalition.middleware.AccessLogMiddleware).
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from django.test import RequestFactory
from django.urls import resolve, reverse
from pythonjsonlogger.json import JsonFormatter

from coalition.middleware import RedactedPathFilter, RequestIdFilter

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "s3cretSignerT0ken-abcdefghijklmnop"
CLIENT = {
    "REMOTE_ADDR": "203.0.113.77",
    "HTTP_X_FORWARDED_FOR": "198.51.100.23",
    "HTTP_USER_AGENT": "TellTaleBrowser/9.9",
    "HTTP_REFERER": "https://referrer.example/private-page",
}


def _lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    """The access records as the production log writes them (JSON, with the request id)."""
    formatter = JsonFormatter("%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s")
    return [formatter.format(r) for r in caplog.records if r.name == "coalition.access"]


@pytest.fixture(autouse=True)
def _request_ids(caplog: pytest.LogCaptureFixture) -> None:
    # As the console handler does in production: the id is taken while the request runs.
    caplog.handler.addFilter(RequestIdFilter())


SIGNER_LINKS = [
    reverse("campaigns:confirm", args=[TOKEN]),
    reverse("campaigns:not_me", args=[TOKEN]),
    reverse("campaigns:withdraw", args=[TOKEN]),
    reverse("privacy:erase", args=[TOKEN]),
    reverse("outreach:letter", args=[TOKEN]),
    reverse("outreach:survey", args=[TOKEN, "yes"]),
    reverse("members:invitation", args=[TOKEN]),
    reverse("account_confirm_email", args=[TOKEN]),
    f"/accounts/password/reset/key/1x-{TOKEN}/",
    f"/api/v1/{TOKEN}",
]


@pytest.mark.parametrize("method", ["get", "post"])
@pytest.mark.parametrize("url", SIGNER_LINKS)
def test_a_signer_link_is_logged_without_its_token(client, caplog, url, method):
    with caplog.at_level(logging.INFO, logger="coalition.access"):
        response = getattr(client, method)(f"{url}?email=olga@example.org", **CLIENT)
    lines = _lines(caplog)
    assert len(lines) == 1
    line = lines[0]
    assert TOKEN not in line
    assert "REDACTED" in line
    assert f'"status": {response.status_code}' in line
    assert f'"method": "{method.upper()}"' in line
    assert response["X-Request-ID"] in line
    # the query string is never logged (it may carry anything)
    assert "olga" not in line


def test_the_log_line_names_no_address_browser_or_referrer(client, caplog):
    with caplog.at_level(logging.INFO, logger="coalition.access"):
        client.get(reverse("campaigns:list"), **CLIENT)
    [line] = _lines(caplog)
    assert '"path": "/campaigns/"' in line
    for value in CLIENT.values():
        assert value not in line
    assert "203.0.113" not in line and "TellTale" not in line


def test_public_slugs_stay_readable(client, caplog, live):
    with caplog.at_level(logging.INFO, logger="coalition.access"):
        client.get(reverse("campaigns:petition", args=[live.petition.slug]))
    [line] = _lines(caplog)
    assert f'"path": "/petitions/{live.petition.slug}/"' in line


def test_a_path_no_route_matches_keeps_only_its_first_segment(client, caplog):
    # Without the trailing slash the resolver matches nothing and CommonMiddleware redirects.
    with caplog.at_level(logging.INFO, logger="coalition.access"):
        client.get(f"/signatures/confirm/{TOKEN}")
        client.get(f"/nowhere/{TOKEN}/deeper")
    lines = _lines(caplog)
    assert len(lines) == 2
    assert all(TOKEN not in line for line in lines)
    assert '"path": "/signatures/REDACTED"' in lines[0]


def test_djangos_error_line_for_a_failed_request_gets_the_redacted_path():
    request = RequestFactory().get(f"/signatures/withdraw/{TOKEN}/")
    request.resolver_match = resolve(request.path)
    record = logging.LogRecord(
        "django.request", logging.ERROR, __file__, 1, "%s: %s",
        ("Internal Server Error", request.path), None,
    )  # fmt: skip
    record.request = request
    assert RedactedPathFilter().filter(record)
    assert record.getMessage() == "Internal Server Error: /signatures/withdraw/REDACTED/"


def test_gunicorn_writes_no_access_log_of_its_own():
    dockerfile = (ROOT / "Dockerfile").read_text()
    command = dockerfile[dockerfile.index("CMD [") :]
    assert "gunicorn" in command
    assert "access-log" not in command and "access_log" not in command
