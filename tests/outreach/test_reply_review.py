"""Issue 10: officials' replies quote the signer's letter.

An emailed reply was stored in full, quote and all (the signer's name, city, own words and, if
revealed, address), and shown in the staff admin, to every co-sponsor member without two-factor
and on the public campaign page. Now the quote is cut and the signer's details redacted before
it is stored, and an emailed reply is public only after a co-sponsor reviewed and published it.
"""

from __future__ import annotations

import pytest
from anymail.inbound import AnymailInboundMessage
from anymail.signals import AnymailInboundEvent, inbound
from django.urls import reverse

from campaigns import services as campaign_services
from campaigns.signing import token_make
from members.models import Membership
from outreach import services
from outreach.models import Reply
from outreach.reply_text import REDACTED, SignerDetails, reply_clean, strip_quoted
from tests.factories import make_member, make_staff, sign_in

pytestmark = pytest.mark.django_db

OWN_WORDS = "My brother was arrested in Kazan for a post about the war"
OFFICIAL = "Thank you. The Commissioner will raise the question of bank accounts in March."


@pytest.fixture
def olgas_letter(live, letters):
    signature = campaign_services.signature_create(
        petition=live.petition,
        name="Olga Smirnova",
        email="olga.smirnova@example.org",
        country="DE",
        city="Berlin",
    )
    signature = campaign_services.signature_confirm(token=token_make(signature.pk, "confirm"))
    return services.letters_send(
        letter_campaign=letters, signature=signature, personal_message=OWN_WORDS + "."
    )[0]


def _reply_arrives(letter, text: str, subject: str = "Re: About Bank accounts for all") -> Reply:
    message = AnymailInboundMessage.construct(
        from_email=letter.contact.email,
        to="replies@coalition.example",
        subject=subject,
        text=text,
        headers=[("In-Reply-To", letter.email.message_id)],
    )
    inbound.send(
        sender=object,
        event=AnymailInboundEvent(event_type="inbound", message=message),
        esp_name="Postmark",
    )
    return Reply.objects.latest("pk")


def _quoting_reply() -> str:
    return (
        f"Dear Ms Smirnova,\n\n{OFFICIAL}\nWe are sorry to hear that: {OWN_WORDS}.\n\n"
        "Kind regards,\nOffice of the Commissioner\n\n"
        "On Mon, 30 Nov 2026 at 10:00, Olga Smirnova via Coalition <letters@coalition.example>"
        " wrote:\n"
        "> Dear DG FISMA,\n"
        f"> {OWN_WORDS}.\n"
        "> Olga Smirnova, Berlin\n"
    )


def test_an_emailed_reply_is_stored_without_the_quote_and_the_signers_details(olgas_letter):
    reply = _reply_arrives(olgas_letter, _quoting_reply(), "Re: Olga Smirnova, Berlin")
    assert OFFICIAL in reply.summary  # what the official wrote is kept
    for secret in ("Olga", "Smirnova", "Berlin", "Kazan", "arrested", "wrote:", "olga.smirnova"):
        assert secret.lower() not in reply.summary.lower(), secret
    assert REDACTED in reply.summary
    assert reply.published_at is None  # and it waits for review


def test_reply_headers_in_the_languages_officials_write_cut_the_quote():
    for header in (
        "On 30.11.2026 10:00, Olga Smirnova <olga@example.org> wrote:",
        "Am 30.11.2026 um 10:00 schrieb Olga Smirnova <olga@example.org>:",
        "Le lun. 30 nov. 2026 à 10:00, Olga Smirnova <olga@example.org> a écrit :",
        "30.11.2026, 10:00, Ольга Смирнова написал(а):",
        "-----Original Message-----",
        "-----Ursprüngliche Nachricht-----",
        "From: Olga Smirnova <olga@example.org>\nSent: Monday, 30 November 2026 10:00",
    ):
        text = f"We will look into it.\n\n{header}\nMy brother was arrested.\nOlga, Berlin"
        assert strip_quoted(text) == "We will look into it.", header
    # An official's own sentence with "wrote" in it is kept.
    assert strip_quoted("Many citizens wrote:\nthank you") == "Many citizens wrote:\nthank you"


def test_redaction_finds_the_signer_across_line_breaks_and_case():
    signer = SignerDetails(name="Olga Smirnova", city="Berlin", email="o.s@example.org")
    cleaned = reply_clean("Dear OLGA\nSMIRNOVA of berlin (o.s@example.org), yes.", [signer])
    assert cleaned == f"Dear {REDACTED} of {REDACTED} ({REDACTED}), yes."


def _outreach_page(client, live, index: int = 0) -> str:
    kwargs = {"org": live.orgs[index].slug, "slug": live.campaign.slug}
    return client.get(reverse("outreach:campaign", kwargs=kwargs)).content.decode()


def _reply_url(live, reply: Reply, index: int = 0) -> str:
    kwargs = {"org": live.orgs[index].slug, "slug": live.campaign.slug, "pk": reply.pk}
    return reverse("outreach:reply", kwargs=kwargs)


def test_an_unreviewed_reply_is_not_public_and_not_for_members_without_two_factor(
    client, live, olgas_letter
):
    reply = _reply_arrives(olgas_letter, _quoting_reply())
    public = client.get(reverse("campaigns:campaign", args=[live.campaign.slug]))
    page = public.content.decode()
    assert "Reply received from DG FISMA" in page  # the timeline says a reply came...
    assert OFFICIAL not in page  # ...not what it says

    viewer = make_member(live.orgs[0], Membership.Role.VIEWER, mfa=False)
    client.force_login(viewer)
    assert OFFICIAL not in _outreach_page(client, live)
    response = client.get(_reply_url(live, reply))
    assert response.status_code == 302 and OFFICIAL not in response.content.decode()
    assert response["Location"] == reverse("mfa_activate_totp")
    # A viewer with two-factor reads the redacted text, and cannot publish it.
    viewer_2fa = make_member(live.orgs[0], Membership.Role.VIEWER)
    client.force_login(viewer_2fa)
    page = client.get(_reply_url(live, reply)).content.decode()
    assert OFFICIAL in page and "Smirnova" not in page and "Publish on" not in page
    assert client.post(_reply_url(live, reply)).status_code == 403
    reply.refresh_from_db()
    assert reply.published_at is None


def test_after_a_cosponsor_publishes_the_public_page_shows_the_redacted_text(
    client, live, olgas_letter
):
    reply = _reply_arrives(olgas_letter, _quoting_reply())
    editor = make_member(live.orgs[1], Membership.Role.EDITOR)
    client.force_login(editor)
    response = client.post(_reply_url(live, reply, 1))
    assert response.status_code == 302
    reply.refresh_from_db()
    assert reply.published_at and reply.published_by == editor
    assert reply.published_for == live.orgs[1]
    client.logout()
    page = client.get(reverse("campaigns:campaign", args=[live.campaign.slug])).content.decode()
    assert OFFICIAL in page
    for secret in ("Smirnova", "Berlin", "Kazan"):
        assert secret not in page
    # Publishing twice is refused clearly and changes nothing.
    with pytest.raises(services.OutreachError, match="already published"):
        services.reply_publish(reply=reply, organization=live.orgs[0], user=live.admins[0])


def test_an_old_unredacted_reply_is_redacted_wherever_it_is_shown(client, live, olgas_letter):
    """A reply stored before this change (full quote) shows redacted to staff and co-sponsors."""
    reply = Reply.objects.create(
        campaign=live.campaign,
        contact=olgas_letter.contact,
        letter=olgas_letter,
        summary=_quoting_reply(),
        source=Reply.Source.INBOUND,
    )
    staff, secret = make_staff()
    sign_in(client, staff, secret)
    page = client.get(reverse("admin:outreach_reply_change", args=[reply.pk])).content.decode()
    assert OFFICIAL in page and "Smirnova" not in page and "Kazan" not in page
    client.force_login(live.admins[0])
    page = client.get(_reply_url(live, reply)).content.decode()
    assert OFFICIAL in page and "Smirnova" not in page


def test_a_reply_a_cosponsor_enters_is_their_summary_and_public_at_once(client, live, letters):
    reply = services.reply_record(
        campaign_id=live.campaign.pk,
        organization=live.orgs[0],
        contact=None,
        summary="The Commission promised a hearing.",
        user=live.admins[0],
    )
    assert reply.published_at and reply.published_for == live.orgs[0]
    page = client.get(reverse("campaigns:campaign", args=[live.campaign.slug])).content.decode()
    assert "The Commission promised a hearing." in page


def _name_and_city_reply() -> str:
    # No quote to cut: the official names her and her city in their own words.
    return f"Dear Ms Smirnova,\n\n{OFFICIAL}\nWe know the situation of Russians in Berlin.\n"


def test_a_reply_after_the_signer_erased_their_data_keeps_no_text(client, live, olgas_letter):
    """Erasure sets the letter's signature to NULL, so her name and city were no longer known
    and the reply was stored, shown and publishable unredacted."""
    from privacy.services import signer_erase

    assert signer_erase(email="olga.smirnova@example.org") == 1
    olgas_letter.refresh_from_db()
    assert olgas_letter.signature_id is None
    reply = _reply_arrives(olgas_letter, _name_and_city_reply(), "Re: Olga Smirnova, Berlin")
    for secret in ("Smirnova", "Berlin", OFFICIAL):
        assert secret not in reply.summary, secret
    assert "withheld" in reply.summary  # only that a reply came
    services.reply_publish(reply=reply, organization=live.orgs[0], user=live.admins[0])
    page = client.get(reverse("campaigns:campaign", args=[live.campaign.slug])).content.decode()
    assert "Smirnova" not in page and "Berlin" not in page


def test_an_old_reply_whose_signer_erased_their_data_cannot_be_published_with_text(
    client, live, olgas_letter
):
    reply = Reply.objects.create(
        campaign=live.campaign,
        contact=olgas_letter.contact,
        letter=olgas_letter,
        summary=_name_and_city_reply(),
        source=Reply.Source.INBOUND,
    )
    from privacy.services import signer_erase

    signer_erase(email="olga.smirnova@example.org")
    services.reply_publish(reply=reply, organization=live.orgs[0], user=live.admins[0])
    reply.refresh_from_db()
    assert "Smirnova" not in reply.summary and "Berlin" not in reply.summary


def test_a_reply_matched_by_contact_beyond_the_letters_checked_keeps_no_text(
    live, olgas_letter, monkeypatch
):
    """Matched only by the sender's address, a reply is checked against the contact's latest
    letters: when there are more, the signer it names may be one not checked."""
    from outreach import selectors

    monkeypatch.setattr(selectors, "REPLY_LETTERS_CHECKED", 0)
    reply = services.reply_receive(
        campaign_id=live.campaign.pk,
        contact=olgas_letter.contact,
        letter=None,
        text=_name_and_city_reply(),
    )
    assert "Smirnova" not in reply.summary and "Berlin" not in reply.summary
    assert "withheld" in reply.summary
