"""Issue 10, item 1: letter test mode leaked signers to any co-sponsor member.

An editor of one co-sponsor created a letter campaign in test mode with a test address of their
choosing and a subject carrying the signer's name and city; confirming signers were led to it
and their data went to that address. Now a letter campaign is a draft until every co-sponsor's
admin approved it, test letters carry a made-up signer only, and signers see what they send.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from allauth.account.models import EmailAddress
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from campaigns import joint
from campaigns import services as campaign_services
from campaigns.models import JointAct
from campaigns.signing import token_make
from members.models import Membership
from outbox.models import Email
from outreach import services
from outreach.models import Letter, LetterCampaign
from tests.factories import make_member

pytestmark = pytest.mark.django_db

SPY = "spy@attacker.example"


def _workspace(live, index: int, name: str, **extra) -> str:
    kwargs = {"org": live.orgs[index].slug, "slug": live.campaign.slug, **extra}
    return reverse(f"outreach:{name}", kwargs=kwargs)


def _create_as_editor(client, live, contacts) -> LetterCampaign:
    editor = make_member(live.orgs[0], Membership.Role.EDITOR)
    client.force_login(editor)
    response = client.post(
        _workspace(live, 0, "letter_campaign_create"),
        {
            "petition": live.petition.pk,
            "subject_en": "Letter from {signer_name}, {signer_city}",
            "body_en": "Dear {target_name},\n{personal_message}\n{signer_name}, {signer_country}",
            "targeting": "fixed",
            "targets": [contacts[0].pk, contacts[1].pk],
            "max_personal_length": 600,
            "hourly_cap": 30,
            "starts_at": (timezone.now() - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
            "test_mode": "on",
            "test_address": SPY,
            "reply_to": SPY,  # a hostile editor's own mailbox for officials' replies
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    client.logout()
    return LetterCampaign.objects.get(subject_en__startswith="Letter from")


def _confirm(client, live, name: str = "Olga Smirnova", email: str = "olga@example.org"):
    signature = campaign_services.signature_create(
        petition=live.petition, name=name, email=email, country="DE", city="Berlin"
    )
    response = client.post(reverse("campaigns:confirm", args=[token_make(signature.pk, "confirm")]))
    signature.refresh_from_db()
    return signature, response


def _mail_to(address: str) -> list[Email]:
    return [email for email in Email.objects.all() if email.to == address]  # encrypted column


def test_an_editors_test_mode_letter_never_reaches_signers_or_leaks_them(client, live, contacts):
    letter_campaign = _create_as_editor(client, live, contacts)
    assert letter_campaign.test_mode and not letter_campaign.approved_fingerprint

    signature, response = _confirm(client, live)
    # The signer is not led to the unapproved letter...
    assert response.status_code == 302
    assert "/letters/" not in response["Location"]
    # ...and a link made by hand (or an old one) is refused clearly and sends nothing.
    url = reverse("outreach:letter", args=[token_make(signature.pk, "letter")])
    page = client.get(url)
    assert page.status_code == 404
    assert "No letter to send" in page.content.decode()
    posted = client.post(url, {"personal_message": "Hello", "letter": f"{letter_campaign.pk}:x"})
    assert posted.status_code == 404
    assert not Letter.objects.exists()
    for email in Email.objects.all():
        assert "Olga" not in email.subject + email.body_text
        assert "Berlin" not in email.subject + email.body_text
    assert not _mail_to(SPY)
    # The service refuses too, whoever calls it.
    with pytest.raises(services.OutreachError, match="approved"):
        services.letters_send(letter_campaign=letter_campaign, signature=signature)
    assert not _mail_to(SPY)


def test_after_every_cosponsor_admin_approves_signers_write_to_the_real_contacts(
    client, live, contacts
):
    letter_campaign = _create_as_editor(client, live, contacts)
    act = JointAct.objects.get(kind=services.LETTER_APPROVAL_ACT, subject_id=letter_campaign.pk)
    assert act.rule == JointAct.Rule.UNANIMOUS
    # The editor's proposal does not approve for A: A's own admin must, and B's.
    client.force_login(live.admins[1])
    answer_b = reverse(
        "campaigns:act_answer",
        kwargs={"org": live.orgs[1].slug, "slug": live.campaign.slug, "pk": act.pk},
    )
    assert client.post(answer_b, {"answer": "approve"}).status_code == 302
    letter_campaign.refresh_from_db()
    assert letter_campaign.test_mode
    assert (
        "/letters/" not in _confirm(client, live, "Early Bird", "early@example.org")[1]["Location"]
    )
    client.force_login(live.admins[0])
    answer_a = reverse(
        "campaigns:act_answer",
        kwargs={"org": live.orgs[0].slug, "slug": live.campaign.slug, "pk": act.pk},
    )
    assert client.post(answer_a, {"answer": "approve"}).status_code == 302
    letter_campaign.refresh_from_db()
    assert not letter_campaign.test_mode and letter_campaign.approved_fingerprint
    client.logout()

    signature, response = _confirm(client, live)
    assert response["Location"] == reverse(
        "outreach:letter", args=[token_make(signature.pk, "letter")]
    )
    page = client.get(response["Location"]).content.decode()
    version = re.search(r'name="letter" value="([^"]+)"', page).group(1)
    sent = client.post(response["Location"], {"personal_message": "Please act.", "letter": version})
    assert sent.status_code == 200
    letters = Letter.objects.filter(signature=signature)
    assert {letter.email.to for letter in letters} == {contacts[0].email, contacts[1].email}
    assert {letter.email.subject for letter in letters} == {"Letter from Olga Smirnova, Berlin"}
    assert not _mail_to(SPY)


def test_a_change_after_approval_takes_the_letter_off_the_air(client, live, contacts, letters):
    signature, response = _confirm(client, live)
    assert "/letters/" in response["Location"]
    letters.body_en = "Dear {target_name}, something else entirely. {signer_name}"
    letters.save()  # e.g. through the Django admin: no path skips the check
    assert services.letter_campaign_status(letters) == "changed"
    with pytest.raises(services.OutreachError, match="approved"):
        services.letters_send(letter_campaign=letters, signature=signature)
    _other, response = _confirm(client, live, "Second Signer", "second@example.org")
    assert "/letters/" not in response["Location"]
    # Targets count as content too.
    letters.body_en = "Dear {target_name},\n{personal_message}\n{signer_name}, {signer_country}"
    letters.save()
    assert services.letter_campaign_status(letters) == "approved"
    letters.targeting = LetterCampaign.Targeting.COUNTRY
    letters.save()
    assert services.letter_campaign_status(letters) == "changed"


def test_a_letter_campaign_takes_only_a_petition_of_its_own_campaign_and_no_approval(
    live, contacts
):
    elsewhere = campaign_services.campaign_create(
        organization=live.orgs[0],
        user=live.admins[0],
        issue_area=live.campaign.issue_area,
        title_en="Another campaign",
    )
    foreign = campaign_services.petition_create(
        campaign=elsewhere,
        organization=live.orgs[0],
        user=live.admins[0],
        title_en="Another petition",
        addressed_to="Council",
    )
    with pytest.raises(services.OutreachError, match="petition of this campaign"):
        services.letter_campaign_create(
            campaign=live.campaign,
            organization=live.orgs[0],
            user=live.admins[0],
            petition=foreign,
            subject_en="About {campaign_title}",
            body_en="Dear {target_name}",
        )
    with pytest.raises(TypeError):  # the approval is never an input
        services.letter_campaign_create(
            campaign=live.campaign,
            organization=live.orgs[0],
            user=live.admins[0],
            petition=live.petition,
            subject_en="About {campaign_title}",
            body_en="Dear {target_name}",
            approved_fingerprint="x" * 64,
            test_mode=False,
        )
    assert not LetterCampaign.objects.exists()


def test_a_letter_changed_between_proposal_and_approval_does_not_go_live(live, contacts):
    letter_campaign = services.letter_campaign_create(
        campaign=live.campaign,
        organization=live.orgs[0],
        user=live.admins[0],
        targets=[contacts[0]],
        petition=live.petition,
        subject_en="About {campaign_title}",
        body_en="Dear {target_name}",
    )
    LetterCampaign.objects.filter(pk=letter_campaign.pk).update(body_en="Send us {signer_name}")
    act = JointAct.objects.get(kind=services.LETTER_APPROVAL_ACT, subject_id=letter_campaign.pk)
    joint.joint_act_answer(act=act, organization=live.orgs[1], user=live.admins[1], approve=True)
    act.refresh_from_db()
    assert act.status == JointAct.Status.STOPPED and "changed" in act.note
    letter_campaign.refresh_from_db()
    assert letter_campaign.test_mode and not letter_campaign.approved_fingerprint


def test_a_test_send_carries_only_the_sample_signer(client, live, contacts):
    letter_campaign = _create_as_editor(client, live, contacts)
    _confirm(client, live)  # a real signer exists; the test must not use her
    client.force_login(live.admins[1])  # any co-sponsor may ask for a test
    response = client.post(
        _workspace(live, 1, "letter_campaign_action", pk=letter_campaign.pk, action="test")
    )
    assert response.status_code == 302
    assert not _mail_to(SPY)  # the address typed into the draft is not where tests go
    tests = [  # "me": the asking person's verified address
        email for email in _mail_to(live.admins[1].email) if email.kind == "outreach.letter_test"
    ]
    assert len(tests) == 2
    for email in tests:
        assert email.kind == "outreach.letter_test"
        assert email.subject.startswith("[TEST → ")
        assert "Letter from Test Signer, Sampletown" in email.subject
        assert "Test Signer, Sampleland" in email.body_text
        assert "Olga" not in email.subject + email.body_text
        assert "Berlin" not in email.subject + email.body_text
    assert not [e for e in Email.objects.all() if e.to in {c.email for c in contacts}]


def test_an_outsider_cannot_ask_for_a_test_or_an_approval(client, live, contacts):
    letter_campaign = _create_as_editor(client, live, contacts)
    client.force_login(live.outsider_admin)
    url = reverse(
        "outreach:letter_campaign_action",
        kwargs={
            "org": live.outsider.slug,
            "slug": live.campaign.slug,
            "pk": letter_campaign.pk,
            "action": "test",
        },
    )
    assert client.post(url).status_code == 404
    assert not _mail_to(SPY)


def test_the_letter_page_lists_each_target_and_the_filled_text(client, live, letters, contacts):
    _signature, response = _confirm(client, live)
    page = client.get(response["Location"]).content.decode()
    for contact in contacts[:2]:
        assert contact.name in page
        assert contact.get_institution_display() in page
    assert "Dear DG FISMA," in page and "Dear Anna MEP," in page
    assert "Olga Smirnova, Germany" in page
    assert "About Bank accounts for all" in page  # the subject, filled
    assert "Olga Smirnova via Coalition" in page
    assert "Blocked Office" not in page
    # With their own words, the preview shows the letters exactly as they will leave; nothing
    # is sent until the signer presses send.
    version = re.search(r'name="letter" value="([^"]+)"', page).group(1)
    preview = client.post(
        response["Location"], {"personal_message": "My own words.", "letter": version, "preview": 1}
    )
    assert preview.status_code == 200
    assert "Dear DG FISMA,\nMy own words.\nOlga Smirnova, Germany" in preview.content.decode()
    assert not Letter.objects.exists()
    client.post(response["Location"], {"personal_message": "My own words.", "letter": version})
    email = Letter.objects.get(contact=contacts[0]).email
    assert email.body_text == "Dear DG FISMA,\nMy own words.\nOlga Smirnova, Germany\n"


def test_a_stale_letter_version_is_refused(client, live, letters):
    _signature, response = _confirm(client, live)
    result = client.post(response["Location"], {"letter": f"{letters.pk}:0000"})
    assert result.status_code == 400
    assert "changed since you opened" in result.content.decode()
    assert not Letter.objects.exists()


def test_a_test_letter_never_goes_to_an_address_typed_in(client, live, contacts):
    """Our domain must not mail the coalition's letter to any address an editor types in."""
    letter_campaign = _create_as_editor(client, live, contacts)
    editor = make_member(live.orgs[0], Membership.Role.EDITOR)
    client.force_login(editor)
    url = _workspace(live, 0, "letter_campaign_action", pk=letter_campaign.pk, action="test")
    before = Email.objects.count()
    response = client.post(url, {"to": SPY}, follow=True)
    assert response.status_code == 200
    assert "not to an address typed in" in response.content.decode()
    assert Email.objects.count() == before and not _mail_to(SPY)
    # The service refuses too, whoever calls it.
    with pytest.raises(services.OutreachError, match="your own verified address"):
        services.letter_test_send(
            letter_campaign=letter_campaign, organization=live.orgs[0], user=editor, to=SPY
        )
    # Without a verified address of one's own, nothing goes anywhere.
    EmailAddress.objects.filter(user=editor).update(verified=False)
    with pytest.raises(services.OutreachError, match="Verify your account"):
        services.letter_test_send(
            letter_campaign=letter_campaign, organization=live.orgs[0], user=editor
        )
    assert Email.objects.count() == before
    # Asking for one's own address works.
    EmailAddress.objects.filter(user=editor).update(verified=True)
    response = client.post(url, {"to": editor.email.upper()}, follow=True)
    assert "on their way" in response.content.decode()
    assert [email.kind for email in _mail_to(editor.email)] == ["outreach.letter_test"] * 2


def test_a_letters_reply_to_is_never_an_address_a_cosponsor_typed(client, live, contacts):
    """Officials' replies quote the signer's letter (name, city, own words). A co-sponsor's
    editor could set the campaign's reply address to their own organization's mailbox, and the
    replies went there, past redaction and review. Now Reply-To is the platform's letters
    address (its inbound mail reaches the reply webhook), or the signer's own if she chose so."""
    letter_campaign = _create_as_editor(client, live, contacts)
    act = JointAct.objects.get(kind=services.LETTER_APPROVAL_ACT, subject_id=letter_campaign.pk)
    for organization, admin in zip(live.orgs, live.admins, strict=True):
        joint.joint_act_answer(act=act, organization=organization, user=admin, approve=True)
    letter_campaign.refresh_from_db()
    signature, _response = _confirm(client, live)
    hidden = services.letters_send(letter_campaign=letter_campaign, signature=signature)
    assert hidden and {letter.email.reply_to for letter in hidden} == {
        settings.OUTREACH_FROM_ADDRESS
    }
    tests = services.letter_test_send(
        letter_campaign=letter_campaign, organization=live.orgs[0], user=live.admins[0]
    )
    assert {email.reply_to for email in tests} == {settings.OUTREACH_FROM_ADDRESS}
    assert not [e for e in Email.objects.all() if SPY in (e.to, e.reply_to)]
