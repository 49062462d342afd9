"""Issue 16: no IP address, user agent or signer token in application logs, access logs or error
reports. Real requests (a signer's links, a CSRF refusal, a rate limit, a crash) go through the
configured logging, and everything the handlers write is read back."""

from __future__ import annotations

import io
import logging
import logging.config
from collections.abc import Iterator

import pytest
from django.conf import LazySettings
from django.test import Client, RequestFactory
from django.urls import reverse
from django.views.debug import get_exception_reporter_class

from campaigns import selectors
from campaigns.signing import token_make
from coalition.logs import PrivacyFilter
from tests.campaigns.conftest import LiveCampaign

pytestmark = pytest.mark.django_db

IP = "203.0.113.77"
FORWARDED = "198.51.100.23"
IPV6 = "2001:db8:abcd:12::7"
AGENT = "Mozilla/5.0 (X11; Linux) UniqueAgent/98765"
# Built, so that the report's source excerpts of this file cannot contain them.
EMAIL = "-".join(["olga", "petrova"]) + "@example.org"
SESSION = "".join(["abcdef", "123456"])


@pytest.fixture
def written(settings: LazySettings) -> Iterator[io.StringIO]:
    """Everything the configured handlers write, as the deployment's JSON lines."""
    logging.config.dictConfig(settings.LOGGING)
    output = io.StringIO()
    handlers = [h for h in logging.getLogger().handlers if h.get_name() == "console"]
    assert handlers, "the console handler is not configured"
    for handler in handlers:
        assert isinstance(handler, logging.StreamHandler)
        handler.setStream(output)
    yield output
    logging.config.dictConfig(settings.LOGGING)


def _client(**extra: str) -> Client:
    return Client(REMOTE_ADDR=IP, HTTP_USER_AGENT=AGENT, HTTP_X_FORWARDED_FOR=FORWARDED, **extra)


def _assert_clean(text: str, *secrets: str) -> None:
    for secret in (IP, FORWARDED, AGENT, "UniqueAgent", IPV6, *secrets):
        assert secret not in text, f"{secret!r} was written:\n{text}"


def test_requests_with_tokens_errors_and_refusals_write_nothing_identifying(
    live: LiveCampaign,
    settings: LazySettings,
    written: io.StringIO,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "signer_link": "1/h"}
    from campaigns import services

    signature = services.signature_create(
        petition=live.petition, name="Olga Petrova", email="olga@example.org", country="DE"
    )
    assert signature is not None
    token = token_make(signature.pk, "confirm")
    confirm = reverse("campaigns:confirm", args=[token])
    client = _client()
    assert client.get(confirm + "?utm=" + IP).status_code == 200
    assert client.post(confirm).status_code in {302, 400}
    assert client.post(confirm).status_code == 429  # rate limited: logged as a warning
    # A CSRF refusal: Django's security logger names the path, with the token in it.
    strict = Client(enforce_csrf_checks=True, REMOTE_ADDR=IP, HTTP_USER_AGENT=AGENT)
    assert strict.post(reverse("campaigns:withdraw", args=[token])).status_code == 403

    # A crash on a signer's link, its message naming the token and an address.
    def crash(*, token: str) -> None:
        raise RuntimeError(f"cannot read {token} for {IP} / {IPV6}")

    monkeypatch.setattr(selectors, "signature_review_by_token", crash)
    crashing = _client(raise_request_exception=False)  # type: ignore[arg-type]
    other = token_make(signature.pk + 1, "confirm")
    assert crashing.get(reverse("campaigns:confirm", args=[other])).status_code == 500

    text = written.getvalue()
    # The capture works: the crash and the CSRF refusal are in it, with their redacted paths.
    assert "Internal Server Error: /signatures/confirm/REDACTED/" in text
    assert "RuntimeError: cannot read [redacted] for [redacted] / [redacted]" in text
    assert "Forbidden (CSRF" in text and "/signatures/withdraw/REDACTED/" in text
    assert "rate limited" in text
    _assert_clean(text, token, other)


def test_the_error_report_an_admin_would_be_mailed_names_no_one(
    live: LiveCampaign,
) -> None:
    token = token_make(12345, "confirm")
    request = RequestFactory().post(
        reverse("campaigns:confirm", args=[token]) + "?lang=ru&from=" + IP,
        {"email": EMAIL, "name": "Olga"},
        REMOTE_ADDR=IP,
        HTTP_USER_AGENT=AGENT,
        HTTP_X_FORWARDED_FOR=FORWARDED,
        HTTP_COOKIE="sessionid=" + SESSION,
    )
    from django.urls import resolve

    request.resolver_match = resolve(request.path)
    try:
        raise RuntimeError(f"failed for {token}")
    except RuntimeError as exc:
        reporter = get_exception_reporter_class(request)(request, type(exc), exc, exc.__traceback__)
        text = reporter.get_traceback_text()
        html = reporter.get_traceback_html()
    for report in (text, html):
        _assert_clean(report, token, EMAIL, SESSION)
        assert "RuntimeError" in report


def test_a_record_with_extra_fields_and_a_request_is_cleaned_for_every_handler() -> None:
    request = RequestFactory().get("/", REMOTE_ADDR=IP, HTTP_USER_AGENT=AGENT)
    record = logging.LogRecord(
        "x", logging.WARNING, __file__, 1, "seen %s via %s", (IP, AGENT), None
    )
    record.request = request
    record.client = f"[{IPV6}]:443"
    assert PrivacyFilter().filter(record)
    assert record.request is None
    _assert_clean(record.getMessage() + record.client)
    # Times and versions are not addresses.
    other = logging.LogRecord("x", logging.INFO, __file__, 1, "at 17:22:19, v1.2.3", (), None)
    PrivacyFilter().filter(other)
    assert other.getMessage() == "at 17:22:19, v1.2.3"


def test_an_address_in_a_mail_error_is_not_written(written: io.StringIO) -> None:
    """An SMTP server's or mail provider's refusal names its recipient; the log must not."""
    try:
        raise RuntimeError(f"550 5.1.1 <{EMAIL}>: Recipient address rejected")
    except RuntimeError:
        logging.getLogger("outbox").exception("sending failed for %s", EMAIL)
    text = written.getvalue()
    assert "sending failed" in text and "Recipient address rejected" in text
    _assert_clean(text, EMAIL)
