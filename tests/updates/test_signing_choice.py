"""'Keep me informed about this campaign': one more unticked choice, distinct from consents."""

from __future__ import annotations

import csv
import io
import json

import pytest
from django.urls import reverse

from api.openapi import document
from campaigns import signing
from campaigns.models import Signature
from outbox.models import Email, Suppression
from privacy.services import signer_erase
from tests.outbox.helpers import sent
from tests.updates.conftest import sign

pytestmark = pytest.mark.django_db

FORM = {
    "name": "Anna Petrova",
    "email": "anna@example.org",
    "country": "DE",
    "display": "anonymous",
}


def test_the_sign_page_offers_it_unticked(client, live):
    page = client.get(reverse("campaigns:petition", args=[live.petition.slug])).content.decode()
    assert 'name="updates"' in page
    box = page[page.index('name="updates"') - 200 : page.index('name="updates"') + 100]
    assert "checked" not in box
    assert "Keep me informed about this campaign" in page


def test_the_page_and_widget_store_it_and_it_defaults_to_no(client, live):
    client.post(reverse("campaigns:petition", args=[live.petition.slug]), FORM)
    client.post(
        reverse("campaigns:embed", args=[live.petition.slug]),
        {**FORM, "email": "boris@example.org", "updates": "on"},
    )
    assert (
        Signature.objects.get(email_digest=signing.email_digest(FORM["email"])).wants_updates
        is False
    )
    assert Signature.objects.get(
        email_digest=signing.email_digest("boris@example.org")
    ).wants_updates


def test_the_api_takes_it_and_documents_it(client, live):
    response = client.post(
        reverse("api:signatures", args=[live.petition.slug]),
        json.dumps({**FORM, "updates": True}),
        content_type="application/json",
    )
    assert response.status_code == 202, response.content
    assert Signature.objects.get().wants_updates is True
    schema = json.dumps(document(server_url="http://testserver"))
    assert '"updates"' in schema
    response = client.post(
        reverse("api:signatures", args=[live.petition.slug]),
        json.dumps({**FORM, "email": "c@example.org", "updates": False}),
        content_type="application/json",
    )
    assert response.status_code == 202
    assert not Signature.objects.get(
        email_digest=signing.email_digest("c@example.org")
    ).wants_updates
    response = client.post(
        reverse("api:signatures", args=[live.petition.slug]),
        json.dumps({**FORM, "email": "d@example.org", "updates": 1}),
        content_type="application/json",
    )
    assert response.status_code == 400  # true or false only


def test_the_confirm_mail_and_page_say_it(client, live):
    signature = sign(live, "anna@example.org", updates=True, confirm=False)
    mail = sent(Email.objects.get(kind="campaigns.confirm"))
    assert "You will get the co-sponsors' joint updates" in mail.body_text
    token = signing.token_make(signature.pk, "confirm")
    page = client.get(reverse("campaigns:confirm", args=[token])).content.decode()
    assert "Updates about this campaign" in page
    assert 'name="updates"' in page


def test_the_confirm_page_can_take_it_back(client, live):
    signature = sign(live, "anna@example.org", updates=True, confirm=False)
    token = signing.token_make(signature.pk, "confirm")
    response = client.post(
        reverse("campaigns:confirm", args=[token]), {"review": "1", "display": "anonymous"}
    )
    assert response.status_code == 302
    signature.refresh_from_db()
    assert signature.status == Signature.Status.CONFIRMED
    assert signature.wants_updates is False


def test_the_confirm_page_can_never_add_it(client, live):
    """The attack: whoever holds a leaked confirmation link subscribes the person to mail."""
    signature = sign(live, "anna@example.org", updates=False, confirm=False)
    token = signing.token_make(signature.pk, "confirm")
    page = client.get(reverse("campaigns:confirm", args=[token])).content.decode()
    assert 'name="updates"' not in page
    client.post(
        reverse("campaigns:confirm", args=[token]),
        {"review": "1", "display": "anonymous", "updates": "on"},
    )
    signature.refresh_from_db()
    assert signature.wants_updates is False
    from campaigns import services

    other = sign(live, "boris@example.org", updates=False, confirm=False)
    with pytest.raises(services.CampaignError):
        services.signature_confirm(token=signing.token_make(other.pk, "confirm"), updates=True)
    other.refresh_from_db()
    assert other.status == Signature.Status.PENDING


def test_the_export_has_a_column_for_it(client, live):
    from campaigns.models import SupporterConsent

    signature = sign(live, "anna@example.org", updates=True)
    SupporterConsent.objects.create(signature=signature, organization=live.orgs[0])
    client.force_login(live.admins[0])
    response = client.get(reverse("campaigns:export", args=[live.orgs[0].slug, live.campaign.slug]))
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0][-1] == "updates"
    assert rows[1][-1] == "yes"


def test_it_is_erased_with_the_signature_but_the_suppression_stays(live):
    from outbox.models import ListToken
    from outbox.suppression import campaign_scope, list_token_for

    signature = sign(live, "anna@example.org", updates=True)
    digest = signature.email_digest
    list_token_for(digest=digest, scope=campaign_scope(live.campaign.pk))
    Suppression.objects.create(digest=digest, scope="all", reason="unsubscribed")
    Suppression.objects.create(
        digest=digest, scope=campaign_scope(live.campaign.pk), reason="unsubscribed"
    )
    signer_erase(email="anna@example.org")
    assert not Signature.objects.exists()
    # Nothing left ties her mailbox to this campaign; "no mail at all" still holds.
    assert not ListToken.objects.filter(digest=digest).exists()
    assert list(Suppression.objects.filter(digest=digest).values_list("scope", flat=True)) == [
        "all"
    ]
