"""Staff pages never show a signer's personal data or a signer's working links (issue 10, item 3).

The attack: a stolen staff password (or a hostile staff member) opened a signer's confirmation
mail in the outbox admin and read the address and the confirm / not-me / withdraw / erase links,
which act as the signer. Every page of every ModelAdmin is walked here, for every object, with a
signer whose data is spread over signatures, consents, outbox mail and letters.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
from django.contrib import admin
from django.db.models import Model
from django.test import Client
from django.urls import NoReverseMatch, reverse

from campaigns import services as campaign_services
from campaigns.models import Signature
from campaigns.signing import token_make
from outbox.models import Email
from outreach import services as outreach_services
from outreach.models import Contact, LetterCampaign
from tests.campaigns.conftest import LiveCampaign
from tests.factories import make_staff, sign_in
from tests.outbox.helpers import send_queued

pytestmark = pytest.mark.django_db

NAME = "Zinaida Tainova"
EMAIL = "zinaida.tainova@example.org"
CITY = "Secretville-on-Rhine"
OWN_WORDS = "my brother was taken in Kazan last spring"
_LINK = re.compile(r"https?://\S+")
_TOKEN = re.compile(r"(?=.*[A-Z0-9:_])[\w:.-]{20,}")  # a slug has no capitals, digits or colons


@dataclass
class SignerTrail:
    signature: Signature
    secrets: list[str]  # every string of hers that no staff page may contain


@pytest.fixture
def trail(live: LiveCampaign, letters: LetterCampaign, contacts: list[Contact]) -> SignerTrail:
    signature = campaign_services.signature_create(
        petition=live.petition,
        name=NAME,
        email=EMAIL,
        country="DE",
        city=CITY,
        display=Signature.Display.FULL_NAME,
        consents=[live.orgs[0]],
    )
    assert signature is not None
    campaign_services.signature_confirm(token=token_make(signature.pk, "confirm"))
    signature.refresh_from_db()
    outreach_services.letters_send(
        letter_campaign=letters, signature=signature, personal_message=OWN_WORDS, reveal_email=True
    )
    secrets = [NAME, EMAIL, CITY, OWN_WORDS, "Zinaida", "Tainova"]
    send_queued()  # her confirmation is rendered when it is sent: the links are in it then
    for email in Email.objects.all():
        for link in _LINK.findall(email.body_text):
            # The tokens of her links: confirm, not me, withdraw, erase, letter.
            secrets += [part for part in link.split("/") if _TOKEN.fullmatch(part)]
        if email.to == EMAIL or email.kind == "outreach.letter":  # mail to her, or hers
            secrets += [line for line in email.body_text.splitlines() if len(line) > 30]
    assert any(len(s) > 40 for s in secrets), "the trail holds no signer link: nothing is tested"
    return SignerTrail(signature, sorted(set(secrets)))


@pytest.fixture
def staff_client() -> Client:
    client = Client()
    sign_in(client, *make_staff())
    return client


def _assert_nothing_of_hers(trail: SignerTrail, url: str, html: str) -> None:
    shown = [secret for secret in trail.secrets if secret in html]
    assert not shown, f"{url} shows {shown}"


def _admin_url(model: type[Model], view: str, *args: object) -> str | None:
    try:
        return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)
    except NoReverseMatch:
        return None


def test_the_outbox_never_shows_a_signers_address_body_or_links(
    trail: SignerTrail, staff_client: Client
) -> None:
    confirmation = Email.objects.get(kind="campaigns.confirm")
    changelist = staff_client.get(reverse("admin:outbox_email_changelist"))
    change = staff_client.get(reverse("admin:outbox_email_change", args=[confirmation.pk]))
    assert changelist.status_code == 200 and change.status_code == 200
    for page, response in (("changelist", changelist), ("change", change)):
        html = response.content.decode()
        _assert_nothing_of_hers(trail, page, html)
        assert confirmation.to not in html and confirmation.subject not in html
        assert "/confirm/" not in html and "/erase/" not in html
    # What staff need to do their job is there.
    html = change.content.decode()
    assert "campaigns.confirm" in html and "Attempts" in html
    assert "retry" in changelist.content.decode()  # the actions stay


def test_the_outbox_shows_an_officials_public_address_but_not_the_letter(
    trail: SignerTrail, staff_client: Client, contacts: list[Contact]
) -> None:
    letter = Email.objects.filter(kind="outreach.letter").first()
    assert letter is not None
    html = staff_client.get(reverse("admin:outbox_email_change", args=[letter.pk])).content.decode()
    assert letter.to in html  # e.g. fisma@commission.europa.example: public
    _assert_nothing_of_hers(trail, "letter", html)


def test_searching_the_outbox_by_a_signers_address_finds_nothing(
    trail: SignerTrail, staff_client: Client
) -> None:
    response = staff_client.get(reverse("admin:outbox_email_changelist"), {"q": EMAIL})
    assert response.status_code == 200
    assert response.context["cl"].result_count == 0


def test_the_signature_is_not_in_the_admin_at_all(trail: SignerTrail, staff_client: Client):
    assert Signature not in admin.site._registry
    assert _admin_url(Signature, "changelist") is None


def test_no_admin_page_shows_anything_of_a_signer(trail: SignerTrail, staff_client: Client):
    """Every registered model: its list, every object's change, history and delete pages, and a
    search for her address (a hit would tell staff that the address signed)."""
    visited = 0
    for model, model_admin in admin.site._registry.items():
        changelist = _admin_url(model, "changelist")
        assert changelist is not None
        response = staff_client.get(changelist)
        assert response.status_code == 200, changelist
        _assert_nothing_of_hers(trail, changelist, response.content.decode())
        if model_admin.search_fields:
            found = staff_client.get(changelist, {"q": EMAIL})
            assert found.status_code == 200 and found.context["cl"].result_count == 0, model
        for obj in model._default_manager.all()[:30]:
            for view in ("change", "history", "delete"):
                url = _admin_url(model, view, obj.pk)
                if url is None:
                    continue
                response = staff_client.get(url)
                assert response.status_code in {200, 302, 403}, url
                _assert_nothing_of_hers(trail, url, response.content.decode())
                visited += 1
    assert visited > 50  # the walk reached the objects of her trail
