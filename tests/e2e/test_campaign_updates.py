"""Issue 12 in a browser: a signer asks to be kept informed, confirms, gets an update the
co-sponsors agreed to (DKIM-signed, with one-click unsubscribe), unsubscribes in one click, and
does not get the next one. The co-sponsors' admins act through the HTTP client (their two-factor
sign-in is covered elsewhere); the signer's side is the real browser, JavaScript and all."""

from __future__ import annotations

import re
from collections.abc import Callable

import dkim
import pytest
from aiosmtpd.controller import Controller
from django.conf import LazySettings
from playwright.sync_api import Page, expect
from pytest_django.live_server_helper import LiveServer

from campaigns import signing
from campaigns.models import Signature
from outbox.models import Suppression
from tests.campaigns.conftest import LiveCampaign
from tests.e2e.test_sign_petition import _text, _wait_for_proof_of_work, real_services  # noqa: F401
from tests.integration import conftest as integration
from tests.integration.test_campaign_updates import DOMAIN, SELECTOR, RawInbox, _key, _send_update
from updates.models import CampaignUpdate

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

EMAIL = "irina.browser@example.org"
WAIT = 60.0


def test_signer_keeps_informed_gets_a_signed_update_and_unsubscribes_in_one_click(
    real_services: None,  # noqa: F811
    new_page: Callable[..., Page],
    live_server: LiveServer,
    live: LiveCampaign,
    settings: LazySettings,
) -> None:
    page = new_page()
    page.set_default_timeout(10_000)
    settings.SITE_URL = live_server.url
    inbox, port = RawInbox(), integration._free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    pem, record = _key()
    env = {
        "COALITION_SITE_URL": live_server.url,
        "COALITION_DKIM_DOMAIN": DOMAIN,
        "COALITION_DKIM_SELECTOR": SELECTOR,
        "COALITION_DKIM_PRIVATE_KEY": pem,
    }
    try:
        with integration.run_worker(redis_url=settings.REDIS_URL, smtp_port=port, extra_env=env):
            page.goto(live.petition.get_absolute_url())
            box = page.get_by_label("Keep me informed about this campaign")
            expect(box).not_to_be_checked()  # opt-in
            page.get_by_label("Your name").fill("Irina Volkova")
            page.get_by_label("Email").fill(EMAIL)
            page.get_by_label("Country where you live").select_option("DE")
            box.check()
            _wait_for_proof_of_work(page)
            page.get_by_role("button", name="Sign the petition", exact=True).click()
            expect(page.get_by_role("heading", level=1)).to_have_text("Check your email")

            integration.wait_until(lambda: bool(inbox.to(EMAIL)), timeout=WAIT)
            body = _text(inbox.to(EMAIL)[0][1])
            link = re.search(r"https?://\S+/signatures/confirm/\S+/", body).group(0)
            page.goto(link)
            expect(page.get_by_text("Updates about this campaign")).to_be_visible()
            expect(page.get_by_label("Keep me informed about this campaign")).to_be_checked()
            page.get_by_role("button", name="Confirm my signature", exact=True).click()
            expect(page.locator("ul.messages")).to_contain_text("Your signature is confirmed")
            signature = Signature.objects.get(email_digest=signing.email_digest(EMAIL))
            assert signature.wants_updates

            first = _send_update(live, "First update")
            integration.wait_until(lambda: bool(inbox.to(EMAIL, "First update")), timeout=WAIT)
            raw, message = inbox.to(EMAIL, "First update")[0]
            assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
            https = re.search(r"<(https?://[^>]+)>", message["List-Unsubscribe"]).group(1)
            assert https.startswith(live_server.url + "/u/")
            assert dkim.verify(raw, dnsfunc=lambda name, timeout=5: record)

            # The link in a browser (or a scanner) only shows a button.
            page.goto(https)
            expect(
                page.get_by_role("button", name="Stop the updates about this campaign")
            ).to_be_visible()
            assert not Suppression.objects.exists()
            # RFC 8058 one-click, as the mailbox provider posts it: no cookie, no CSRF token.
            response = page.request.post(
                https,
                data="List-Unsubscribe=One-Click",
                headers={"Content-Type": "application/x-www-form-urlencoded"},
            )
            assert response.status == 200
            assert Suppression.objects.filter(digest=signature.email_digest).exists()
            integration.wait_until(
                lambda: CampaignUpdate.objects.get(pk=first.pk).status == "sent", timeout=WAIT
            )

            second = _send_update(live, "Second update")
            integration.wait_until(
                lambda: CampaignUpdate.objects.get(pk=second.pk).status == "sent", timeout=WAIT
            )
            # The outbox rows of the wave are all settled: nothing for her was even queued.
            assert not inbox.to(EMAIL, "Second update")
            page.goto(live.campaign.get_absolute_url())
            expect(page.locator("#updates")).to_contain_text("Second update")
    finally:
        controller.stop()
