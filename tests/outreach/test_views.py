from __future__ import annotations

import re

import pytest
from django.urls import reverse

from campaigns import services as campaign_services
from campaigns.signing import token_make
from outreach import services
from outreach.models import Letter, PetitionDelivery, Reply

pytestmark = pytest.mark.django_db


def test_confirming_leads_the_signer_to_the_letter_and_sending_works(client, letters, live):
    signature = campaign_services.signature_create(
        petition=live.petition, name="Olga Smirnova", email="olga@example.org", country="DE"
    )
    response = client.post(reverse("campaigns:confirm", args=[token_make(signature.pk, "confirm")]))
    assert response.status_code == 302
    letter_page = client.get(response["Location"])
    assert "DG FISMA" in letter_page.content.decode()
    assert "Blocked Office" not in letter_page.content.decode()
    version = re.search(r'name="letter" value="([^"]+)"', letter_page.content.decode()).group(1)
    sent = client.post(response["Location"], {"personal_message": "Thanks.", "letter": version})
    assert sent.status_code == 200
    assert Letter.objects.count() == 2


def test_bad_personal_message_shows_an_error_and_sends_nothing(client, letters, confirmed):
    url = reverse("outreach:letter", args=[token_make(confirmed().pk, "letter")])
    response = client.post(url, {"personal_message": "<script>x</script>"})
    assert response.status_code == 400
    assert "plain text only" in response.content.decode()
    assert not Letter.objects.exists()


def test_forged_letter_token_is_refused(client, letters):
    response = client.get(reverse("outreach:letter", args=["forged"]))
    assert response.status_code == 400


def test_cosponsor_sees_delivery_view_and_outsider_does_not(client, letters, confirmed, live):
    services.letters_send(letter_campaign=letters, signature=confirmed())
    url = reverse(
        "outreach:campaign", kwargs={"org": live.orgs[1].slug, "slug": live.campaign.slug}
    )
    client.force_login(live.admins[1])
    page = client.get(url).content.decode()
    assert "DG FISMA" in page and "European Commission" in page
    client.force_login(live.outsider_admin)
    outsider_url = reverse(
        "outreach:campaign", kwargs={"org": live.outsider.slug, "slug": live.campaign.slug}
    )
    assert client.get(outsider_url).status_code == 404


def test_cosponsor_records_a_reply_that_appears_on_the_campaign(client, live, contacts):
    client.force_login(live.admins[0])
    kwargs = {"org": live.orgs[0].slug, "slug": live.campaign.slug}
    response = client.post(
        reverse("outreach:reply_add", kwargs=kwargs),
        {"contact": contacts[0].pk, "received_at": "2026-11-20T10:00", "summary": "We will look."},
    )
    assert response.status_code == 302
    assert Reply.objects.get().recorded_by == live.orgs[0]
    assert (
        "We will look." in client.get(reverse("outreach:campaign", kwargs=kwargs)).content.decode()
    )


def test_reply_with_bad_link_is_rejected(client, live):
    client.force_login(live.admins[0])
    kwargs = {"org": live.orgs[0].slug, "slug": live.campaign.slug}
    response = client.post(
        reverse("outreach:reply_add", kwargs=kwargs),
        {"received_at": "2026-11-20T10:00", "url": "javascript:alert(1)"},
    )
    assert response.status_code == 400
    assert not Reply.objects.exists()


def test_each_cosponsor_admin_approves_the_delivery_in_the_browser_flow(client, live, contacts):
    delivery = services.delivery_prepare(petition=live.petition, targets=contacts[:1])
    for org, admin in zip(live.orgs, live.admins, strict=True):
        client.force_login(admin)
        url = reverse(
            "outreach:delivery",
            kwargs={"org": org.slug, "slug": live.campaign.slug, "pk": delivery.pk},
        )
        assert "Alpha Aid, Beta Bridge" in client.get(url).content.decode()
        client.post(url)
    delivery.refresh_from_db()
    assert delivery.status == PetitionDelivery.Status.SENT


def test_survey_link_records_the_answer_on_post_only(client, letters, confirmed):
    letter = services.letters_send(letter_campaign=letters, signature=confirmed())[0]
    url = reverse("outreach:survey", args=[token_make(letter.pk, "survey"), "yes"])
    client.get(url)
    letter.refresh_from_db()
    assert letter.signer_answer == ""
    client.post(url)
    letter.refresh_from_db()
    assert letter.signer_answer == "yes"
    assert client.post(reverse("outreach:survey", args=["forged", "yes"])).status_code == 400


def test_cosponsor_admin_retries_a_failed_letter_but_not_another_campaigns(
    client, letters, confirmed, live
):
    from outbox.models import Email

    letter = services.letters_send(letter_campaign=letters, signature=confirmed())[0]
    Email.objects.filter(pk=letter.email_id).update(status=Email.Status.FAILED, last_error="550")
    other = Email.objects.create(
        kind="members.x", to="x@example.org", from_email="a@b.example", subject="s",
        body_text="b", message_id="<other@x>", status=Email.Status.FAILED,
    )  # fmt: skip
    client.force_login(live.admins[0])
    kwargs = {"org": live.orgs[0].slug, "slug": live.campaign.slug}
    page = client.get(reverse("outreach:campaign", kwargs=kwargs)).content.decode()
    assert "550" in page
    client.post(
        reverse(
            "outreach:email_action", kwargs={**kwargs, "pk": letter.email_id, "action": "retry"}
        )
    )
    assert Email.objects.get(pk=letter.email_id).status in {Email.Status.QUEUED, Email.Status.SENT}
    response = client.post(
        reverse("outreach:email_action", kwargs={**kwargs, "pk": other.pk, "action": "retry"})
    )
    assert response.status_code == 404
    assert Email.objects.get(pk=other.pk).status == Email.Status.FAILED
