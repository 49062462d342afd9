"""The signer's mail is rendered by the worker that sends it, not inside the sign POST (issue 11).

The POST writes an outbox row naming the signature and the template; the sending path renders
it in the language the signer signed in and sends the very text the request used to render. A
signature withdrawn (or "not me"-d, or erased) before its mail went out gets no mail.
"""

from __future__ import annotations

import time

import pytest
from django.conf import settings
from django.core import mail
from django.core.signing import TimestampSigner, b62_encode
from django.db import connection
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation

from campaigns import selectors, services
from campaigns.models import Signature
from campaigns.signing import digest_token, token_make
from outbox import services as outbox_services
from outbox.models import Email
from outbox.services import email_send
from tests.campaigns.signing_helpers import open_petitions

pytestmark = pytest.mark.django_db

FORM = {
    "name": "Мария O'Brien",
    "email": "maria@example.org",
    "country": "LV",
    "display": "full",
}


@pytest.fixture
def frozen_tokens(monkeypatch):
    """Link tokens carry the second they were signed: one second for all, to compare texts."""
    now = b62_encode(int(time.time()))
    monkeypatch.setattr(TimestampSigner, "timestamp", lambda self: now)


def _post_sign(client, live, **extra):
    url = reverse("campaigns:petition", args=[live.petition.slug])
    form = {**FORM, f"consent_{live.orgs[1].slug}": "on", **extra}
    response = client.post(url, form)
    assert response.status_code == 302
    return Signature.objects.get()


def _as_rendered_in_the_request(signature: Signature, template: str) -> tuple[str, str]:
    """What ``_mail_signer`` rendered inside the sign request before issue 11 (its context and
    ``email_enqueue_template``'s rendering, spelled out; the signer's name, shown in full, has
    characters HTML would escape, so an escaping engine would show here)."""
    base = settings.SITE_URL
    context = {
        "site_url": base,
        "signature": signature,
        "petition": signature.petition,
        "review": selectors.signature_review(signature=signature),
        "confirm_url": base
        + reverse("campaigns:confirm", args=[token_make(signature.pk, "confirm")]),
        "not_me_url": base + reverse("campaigns:not_me", args=[token_make(signature.pk, "not-me")]),
        "withdraw_url": base
        + reverse("campaigns:withdraw", args=[token_make(signature.pk, "withdraw")]),
        "erase_url": base + reverse("privacy:erase", args=[digest_token(signature.email_digest)]),
    }
    engine = outbox_services.MAIL_TEXT  # plain text, not HTML-escaped (as the request rendered)
    with translation.override(signature.language):
        subject = render_to_string(f"campaigns/email/{template}_subject.txt", context, using=engine)
        body = render_to_string(f"campaigns/email/{template}_body.txt", context, using=engine)
    body = body.strip()
    return " ".join(subject.splitlines()).strip()[:255], body + "\n"


def test_the_sign_post_leaves_a_recipe_and_no_rendered_mail(client, live):
    signature = _post_sign(client, live)
    email = Email.objects.get(kind="campaigns.confirm")
    assert email.renderer == services.SIGNER_MAIL_RENDERER
    assert email.render_args == {"signature": signature.pk, "template": "confirm"}
    assert (email.subject, email.body_text, email.body_html) == ("", "", "")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT subject, body_text, render_args::text FROM outbox_email WHERE id = %s",
            [email.pk],
        )
        subject, body, args = cursor.fetchone()
    assert (subject, body) == ("", "")
    assert "maria" not in args.lower() and "Brien" not in args  # no personal data in the recipe
    assert email.to == "maria@example.org"
    assert email.recipient_digest == signature.email_digest
    assert email.status == Email.Status.QUEUED and mail.outbox == []


@pytest.mark.parametrize("language", ["en", "ru"])
def test_the_worker_sends_the_text_the_request_used_to_render(
    client, live, frozen_tokens, language
):
    client.cookies["django_language"] = language
    signature = _post_sign(client, live)
    assert signature.language == language
    expected = _as_rendered_in_the_request(signature, "confirm")
    with translation.override("ru" if language == "en" else "en"):  # the worker's own language
        assert email_send(email_id=Email.objects.get(kind="campaigns.confirm").pk) == "sent"
    (sent,) = mail.outbox
    assert (sent.subject, sent.body) == expected
    assert sent.to == ["maria@example.org"]
    stored = Email.objects.get(kind="campaigns.confirm")
    assert (stored.subject, stored.body_text) == expected


def test_a_russian_signer_gets_russian_mail(client, live, django_capture_on_commit_callbacks):
    client.cookies["django_language"] = "ru"
    with django_capture_on_commit_callbacks(execute=True):
        _post_sign(client, live)
    (sent,) = mail.outbox
    assert sent.subject.startswith("Подтвердите подпись:")
    assert "Спасибо, что подписали петицию" in sent.body
    assert "Your signature counts only after you confirm it" not in sent.body


def test_a_repeat_is_rendered_by_the_worker_too(live, frozen_tokens, settings):
    signature = services.signature_create(
        petition=live.petition, name="Anna", email="anna@example.org", country="LV"
    )
    services.signature_confirm(token=token_make(signature.pk, "confirm"))
    Signature.objects.filter(pk=signature.pk).update(
        last_mailed_at=signature.last_mailed_at - settings.SIGNATURE_RESEND_COOLDOWN * 2
    )
    assert (
        services.signature_create(
            petition=live.petition, name="Anna", email="anna@example.org", country="LV"
        )
        is None
    )
    repeat = Email.objects.get(kind="campaigns.already_signed")
    assert repeat.body_text == "" and repeat.render_args["template"] == "already_signed"
    assert email_send(email_id=repeat.pk) == "sent"
    signature.refresh_from_db()
    assert (mail.outbox[-1].subject, mail.outbox[-1].body) == _as_rendered_in_the_request(
        signature, "already_signed"
    )


def test_a_signature_withdrawn_before_its_mail_went_out_gets_none(client, live):
    signature = _post_sign(client, live)
    services.signature_withdraw(token=token_make(signature.pk, "withdraw"))
    email = Email.objects.get(kind="campaigns.confirm")
    # Cancelled by the withdrawal itself; a worker holding its id finds nothing to send.
    assert email_send(email_id=email.pk) == "skipped"
    email.refresh_from_db()
    assert email.status == Email.Status.CANCELLED and email.last_error.startswith("gone")
    assert email.body_text == "" and mail.outbox == []


def test_a_failing_rendering_is_retried_and_the_mail_not_lost(client, live, monkeypatch):
    signature = _post_sign(client, live)
    email = Email.objects.get(kind="campaigns.confirm")

    def broken(**kwargs):
        raise ConnectionError("the database went away")

    with monkeypatch.context() as patch:
        patch.setattr(selectors, "signature_review", broken)
        assert email_send(email_id=email.pk) == "deferred"
    email.refresh_from_db()
    assert email.status == Email.Status.QUEUED and email.attempts == 1
    assert email.body_text == "" and mail.outbox == []
    Email.objects.filter(pk=email.pk).update(next_attempt_at=email.created_at)
    assert email_send(email_id=email.pk) == "sent"
    assert f'Petition: "{signature.petition.title}"' in mail.outbox[0].body


def test_the_per_mailbox_cap_counts_mail_not_rendered_yet(live, settings):
    settings.SIGNATURE_MAILS_PER_MAILBOX = 2
    petitions = open_petitions(live, 3)
    made = [
        services.signature_create(
            petition=petition, name="Victim", email="victim@example.org", country="DE"
        )
        for petition in petitions
    ]
    assert [s is not None for s in made] == [True, True, False]
    queued = Email.objects.filter(kind="campaigns.confirm")
    assert queued.count() == 2 and {e.body_text for e in queued} == {""}


def test_the_signer_mail_renderer_is_registered_by_the_app():
    assert outbox_services._RENDERERS[services.SIGNER_MAIL_RENDERER] is (
        services.signer_mail_render
    )
