"""The confirmation mail and page show what is being confirmed, and let the signer take it back.

A signature filled in by someone else (with the victim's address, full name shown, consent to a
hostile co-sponsor) must not be confirmed by accident: the mail and the page list the petition,
the name as it will be shown and every consent, and the page confirms with less if asked, never
with more.
"""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.urls import reverse

from campaigns import services
from campaigns.models import Signature, SupporterConsent
from campaigns.signing import token_make
from outbox.models import Email
from tests.outbox.helpers import sent

pytestmark = pytest.mark.django_db


def _sign(live, *, display="full", consent_to=(0,)):
    signature = services.signature_create(
        petition=live.petition,
        name="Anna Karenina",
        email="anna@example.org",
        country="LV",
        display=display,
        consents=[live.orgs[n] for n in consent_to],
    )
    assert signature is not None
    return signature


def _confirm_url(signature):
    return reverse("campaigns:confirm", args=[token_make(signature.pk, "confirm")])


def test_confirmation_mail_lists_the_petition_the_shown_name_and_each_consent(
    live, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        _sign(live, display="full", consent_to=(0,))
    body = Email.objects.get(kind="campaigns.confirm").body_text
    assert f'Petition: "{live.petition.title}"' in body
    assert "Your name will be shown as: Anna Karenina" in body
    assert "You allow Alpha Aid to contact you about its work." in body
    assert "You do not allow Beta Bridge to contact you." in body
    assert "it wasn’t me" in body
    assert mail.outbox[0].body == body


def test_anonymous_signature_says_so_in_the_mail(live):
    _sign(live, display="anonymous", consent_to=())
    body = sent(Email.objects.get(kind="campaigns.confirm")).body_text
    assert "Your name will not be shown: you sign anonymously." in body
    assert "Anna" not in body
    assert "You allow" not in body
    assert "You do not allow Alpha Aid" in body and "You do not allow Beta Bridge" in body


def test_confirm_page_shows_what_is_confirmed_and_changes_nothing_on_get(client, live):
    signature = _sign(live, display="initial", consent_to=(1,))
    response = client.get(_confirm_url(signature))
    html = response.content.decode()
    assert response.status_code == 200
    assert live.petition.title in html
    assert "Anna K." in html
    assert "Beta Bridge may contact me about its work" in html  # the consent given, ticked
    slug = live.orgs[1].slug
    assert re.search(rf'value="{slug}"[^>]*checked|checked[^>]*value="{slug}"', html)
    assert "Alpha Aid" in html  # listed as not allowed to write
    assert "Alpha Aid may contact me" not in html  # and never offered as a box to tick
    assert "Full name" not in html  # no more exposed way to show the name is offered
    signature.refresh_from_db()
    assert signature.status == Signature.Status.PENDING
    # "It wasn't me" sits on the page too, and works.
    assert "It wasn't me: delete this signature" in html
    not_me = re.search(r'<form method="post" action="(/signatures/not-me/[^"]+)"', html)
    assert client.post(not_me.group(1)).status_code == 200
    assert not Signature.objects.filter(pk=signature.pk).exists()


def test_confirming_with_a_consent_unticked_stores_no_consent_for_that_org(client, live):
    signature = _sign(live, display="full", consent_to=(0, 1))
    response = client.post(
        _confirm_url(signature),
        {"review": "1", "display": "anonymous", "consents": [live.orgs[1].slug]},
    )
    assert response.status_code == 302
    signature.refresh_from_db()
    assert signature.status == Signature.Status.CONFIRMED
    assert signature.display == Signature.Display.ANONYMOUS
    assert list(
        SupporterConsent.objects.filter(signature=signature).values_list(
            "organization__slug", flat=True
        )
    ) == [live.orgs[1].slug]


def test_confirming_with_every_box_unticked_keeps_no_consent(client, live):
    signature = _sign(live, display="full", consent_to=(0, 1))
    response = client.post(_confirm_url(signature), {"review": "1", "display": "full"})
    assert response.status_code == 302
    signature.refresh_from_db()
    assert signature.status == Signature.Status.CONFIRMED
    assert signature.display == Signature.Display.FULL_NAME
    assert not SupporterConsent.objects.filter(signature=signature).exists()


TAMPERED_CONSENT = "You can only keep or withdraw the permissions you gave when signing."
TAMPERED_DISPLAY = "Choose how your name is shown from the options on the page."


@pytest.mark.parametrize(
    ("posted", "message"),
    [
        # Gamma Group does not co-sponsor the campaign.
        (lambda live: {"display": "anonymous", "consents": [live.outsider.slug]}, TAMPERED_CONSENT),
        # Beta Bridge co-sponsors, but the signer never allowed it: the page cannot add.
        (
            lambda live: {"display": "anonymous", "consents": [o.slug for o in live.orgs]},
            TAMPERED_CONSENT,
        ),
        (lambda live: {"display": "everything"}, TAMPERED_DISPLAY),
        # More exposed than the "first name and initial" chosen when signing.
        (lambda live: {"display": "full"}, TAMPERED_DISPLAY),
    ],
    ids=["not-a-cosponsor", "consent-not-given", "unknown-display", "more-exposed-display"],
)
def test_tampered_review_form_is_refused_clearly_and_confirms_nothing(
    client, live, posted, message
):
    signature = _sign(live, display="initial", consent_to=(0,))
    response = client.post(_confirm_url(signature), {"review": "1", **posted(live)})
    assert response.status_code == 400
    assert message in response.content.decode()
    signature.refresh_from_db()
    assert signature.status == Signature.Status.PENDING
    assert signature.display == Signature.Display.FIRST_NAME_INITIAL
    assert list(
        SupporterConsent.objects.filter(signature=signature).values_list(
            "organization__slug", flat=True
        )
    ) == [live.orgs[0].slug]


def test_service_refuses_more_than_was_given(live):
    signature = _sign(live, display="anonymous", consent_to=())
    token = token_make(signature.pk, "confirm")
    with pytest.raises(services.CampaignError):
        services.signature_confirm(token=token, consents=[live.orgs[0].slug])
    with pytest.raises(services.CampaignError):
        services.signature_confirm(token=token, display="initial")
    signature.refresh_from_db()
    assert signature.status == Signature.Status.PENDING
    assert not SupporterConsent.objects.filter(signature=signature).exists()


def test_dead_link_says_so_on_the_page(client, live):
    response = client.get(reverse("campaigns:confirm", args=["forged-token"]))
    assert "This link is not valid or has expired." in response.content.decode()
    assert "Confirm my signature" not in response.content.decode()
