from __future__ import annotations

import itertools
from datetime import timedelta

import pytest
from django.conf import settings
from django.core import mail
from django.utils import timezone

from outbox import services as outbox_services
from outbox import tasks as outbox_tasks
from outbox.models import Email
from outreach import services
from outreach.forms import LetterCampaignForm
from outreach.models import Contact, Letter, LetterCampaign, PetitionDelivery, Reply
from outreach.templating import template_errors

pytestmark = pytest.mark.django_db


def test_signer_sends_one_letter_per_target_excluding_blocked(letters, confirmed, contacts):
    signature = confirmed()
    sent = services.letters_send(
        letter_campaign=letters, signature=signature, personal_message="Please act."
    )
    assert {letter.contact for letter in sent} == {contacts[0], contacts[1]}  # not the blocked one
    assert services.letters_send(letter_campaign=letters, signature=signature) == []
    assert Letter.objects.count() == 2
    email = Letter.objects.get(contact=contacts[0]).email
    assert email.to == "fisma@commission.europa.example"
    assert email.reply_to == settings.OUTREACH_FROM_ADDRESS  # the signer's address stays private
    assert "olga@example.org" not in email.body_text
    assert "Dear DG FISMA" in email.body_text and "Please act." in email.body_text
    assert "Olga Smirnova via Coalition" in email.from_email
    assert email.bulk  # mass mail: its own lane, never ahead of a signer's confirmation


def test_signer_may_reveal_their_address(letters, confirmed):
    letter = services.letters_send(
        letter_campaign=letters, signature=confirmed(), reveal_email=True
    )[0]
    assert letter.email.reply_to == "olga@example.org"


def test_unconfirmed_signer_cannot_send(letters, live):
    from campaigns import services as campaign_services

    pending = campaign_services.signature_create(
        petition=live.petition, name="P", email="p@example.org", country="DE"
    )
    with pytest.raises(services.OutreachError, match="Confirm"):
        services.letters_send(letter_campaign=letters, signature=pending)
    assert not Letter.objects.exists()


@pytest.mark.parametrize(
    ("message", "problem"),
    [("x" * 601, "at most 600"), ("<b>hi</b>", "plain text"), ("see https://x.example", "links")],
)
def test_personalization_beyond_limits_is_rejected(letters, confirmed, message, problem):
    with pytest.raises(services.OutreachError, match=problem):
        services.letters_send(
            letter_campaign=letters, signature=confirmed(), personal_message=message
        )
    assert not Email.objects.filter(kind="outreach.letter").exists()


def test_signer_text_cannot_inject_placeholders(letters, confirmed):
    letter = services.letters_send(
        letter_campaign=letters, signature=confirmed(), personal_message="{target_name} {0}"
    )[0]
    assert "{target_name} {0}" in letter.email.body_text


def test_outside_the_sending_window_nothing_is_sent(letters, confirmed):
    letters.ends_at = timezone.now() - timedelta(minutes=1)
    letters.save()
    with pytest.raises(services.OutreachError, match="not sending"):
        services.letters_send(letter_campaign=letters, signature=confirmed())


def test_a_letter_campaign_back_in_test_mode_sends_nothing_anywhere(letters, confirmed):
    letters.test_mode = True
    letters.save()
    with pytest.raises(services.OutreachError, match="approved"):
        services.letters_send(letter_campaign=letters, signature=confirmed())
    assert not Email.objects.filter(kind="outreach.letter").exists()


def test_targeting_by_country(letters, confirmed, contacts):
    letters.targeting = LetterCampaign.Targeting.COUNTRY
    letters.institutions = ["ep"]
    letters.save()
    assert [
        c.name for c in services.letter_targets(letter_campaign=letters, signature=confirmed())
    ] == ["Anna MEP"]


def test_pacing_spreads_letters_to_one_contact(letters, confirmed, contacts, settings):
    letters.hourly_cap = 30
    letters.save()
    slots = []
    for n in range(5):
        services.letters_send(letter_campaign=letters, signature=confirmed(f"s{n}@example.org"))
        slots.append(Letter.objects.filter(contact=contacts[0]).latest("pk").email.next_attempt_at)
    gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(slots)]
    assert all(gap >= 120 for gap in gaps)  # 30 an hour: at least two minutes apart


def test_night_in_the_contacts_time_zone_slows_pacing(contacts, settings):
    contact = contacts[0]
    contact.time_zone = "Europe/Brussels"
    contact.save()
    night = timezone.now().replace(hour=1, minute=0, second=0, microsecond=0)  # 02:00 Brussels
    day = night.replace(hour=11)
    for moment in (night, day):
        Contact.objects.filter(pk=contact.pk).update(next_slot_at=moment)
    Contact.objects.filter(pk=contact.pk).update(next_slot_at=night + timedelta(days=1))
    first = services.contact_next_slot(contact=contact, hourly_cap=30, not_before=night)
    second = services.contact_next_slot(contact=contact, hourly_cap=30, not_before=night)
    assert (second - first).total_seconds() >= 120 * settings.OUTREACH_NIGHT_SLOWDOWN


def test_permanent_failure_marks_the_contact_bouncing(letters, confirmed, contacts, monkeypatch):
    import smtplib

    letter = services.letters_send(letter_campaign=letters, signature=confirmed())[0]
    Email.objects.filter(pk=letter.email_id).update(next_attempt_at=timezone.now())

    class Refusing:
        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def send_messages(self, messages):
            raise smtplib.SMTPRecipientsRefused({letter.contact.email: (550, b"no such user")})

    monkeypatch.setattr(outbox_services, "mailers", type("M", (), {"default": Refusing()})())
    assert outbox_tasks.outbox_send(letter.email_id) == "failed"
    letter.contact.refresh_from_db()
    assert letter.contact.status == Contact.Status.BOUNCING
    # a bouncing contact gets no further letters
    assert letter.contact not in services.letter_targets(
        letter_campaign=letters, signature=confirmed("x@example.org")
    )


def test_template_placeholders_are_checked_on_save(live, contacts):
    assert template_errors("Dear {target_name}") == []
    assert template_errors("Dear {target}") == ["unknown placeholder {target}"]
    assert template_errors("Dear {target_name") != []
    form = LetterCampaignForm(
        data={
            "petition": live.petition.pk,
            "subject_en": "Hi {who}",
            "body_en": "Dear {target_name}",
            "targeting": "fixed",
            "targets": [contacts[0].pk],
            "max_personal_length": 600,
            "hourly_cap": 30,
            "starts_at": "2026-11-23T10:00",
        },
        campaign=live.campaign,
    )
    assert not form.is_valid()
    assert "unknown placeholder {who}" in form.errors["subject_en"]


def test_delivery_goes_out_once_after_every_cosponsor_approved(
    live, contacts, django_capture_on_commit_callbacks
):
    delivery = services.delivery_prepare(
        petition=live.petition, targets=contacts[:2], milestone=1, include_names=True
    )
    services.delivery_approve(delivery=delivery, organization=live.orgs[0], user=live.admins[0])
    assert services.delivery_send_if_ready(delivery=delivery) is False  # one co-sponsor missing
    services.delivery_approve(delivery=delivery, organization=live.orgs[1], user=live.admins[1])
    with django_capture_on_commit_callbacks(execute=True):
        assert services.delivery_send_if_ready(delivery=delivery) is True
    assert services.delivery_send_if_ready(delivery=delivery) is False  # never twice
    assert services.deliveries_due() == 0
    delivery.refresh_from_db()
    assert delivery.status == PetitionDelivery.Status.SENT
    assert len(mail.outbox) == 2
    body = mail.outbox[0].body
    assert "Alpha Aid" in body and "Beta Bridge" in body  # from every co-sponsor equally
    assert all(email.bulk for email in delivery.emails.all())


def test_milestone_delivery_waits_for_the_count(live, contacts):
    delivery = services.delivery_prepare(petition=live.petition, targets=contacts[:1], milestone=5)
    for org, admin in zip(live.orgs, live.admins, strict=True):
        services.delivery_approve(delivery=delivery, organization=org, user=admin)
    assert services.deliveries_due() == 0
    type(live.petition).objects.filter(pk=live.petition.pk).update(confirmed_count=5)
    assert services.deliveries_due() == 1
    assert services.deliveries_due() == 0


def test_delivery_to_a_blocked_contact_is_refused(live, contacts):
    with pytest.raises(services.OutreachError, match="does not accept"):
        services.delivery_prepare(petition=live.petition, targets=[contacts[2]])
    assert not PetitionDelivery.objects.exists()


def test_non_cosponsor_cannot_approve(live, contacts):
    delivery = services.delivery_prepare(petition=live.petition, targets=contacts[:1])
    with pytest.raises(services.OutreachError):
        services.delivery_approve(
            delivery=delivery, organization=live.outsider, user=live.outsider_admin
        )


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"summary": "", "url": ""}, "text or a link"),
        ({"summary": "x", "url": "javascript:alert(1)"}, "https"),
        ({"summary": "x", "received_at": timezone.now() + timedelta(days=2)}, "future"),
    ],
)
def test_bad_replies_are_rejected(live, kwargs, message):
    with pytest.raises(services.OutreachError, match=message):
        services.reply_record(
            campaign_id=live.campaign.pk, organization=live.orgs[0], contact=None, **kwargs
        )
    assert not Reply.objects.exists()


def test_survey_asks_once_after_two_weeks_and_reminds_once(letters, confirmed, settings):
    letter = services.letters_send(letter_campaign=letters, signature=confirmed())[0]
    sent_at = timezone.now()
    Email.objects.filter(kind="outreach.letter").update(status=Email.Status.SENT, sent_at=sent_at)
    assert services.reply_surveys_due(now=sent_at + timedelta(days=13)) == 0
    asked = services.reply_surveys_due(now=sent_at + timedelta(days=14, minutes=1))
    assert asked == 2  # one per letter (two targets)
    assert Email.objects.filter(kind="outreach.survey", bulk=True).count() == 2
    assert services.reply_surveys_due(now=sent_at + timedelta(days=15)) == 0
    assert services.reply_surveys_due(now=sent_at + timedelta(days=22)) == 2  # the reminder
    assert services.reply_surveys_due(now=sent_at + timedelta(days=40)) == 0
    services.survey_answer(letter_id=letter.pk, answer="not_yet")
    letter.refresh_from_db()
    assert letter.signer_answer == "not_yet"
