"""Campaign updates: drafted by one co-sponsor, sent as a joint act of all, to those who asked."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from campaigns import joint, signing
from campaigns import services as campaign_services
from campaigns.models import JointAct, OutcomeEvent
from members.models import Membership
from outbox.models import Email, Suppression
from outbox.suppression import campaign_scope
from tests.factories import make_member
from tests.updates.conftest import sign
from updates import services
from updates.models import CampaignUpdate

pytestmark = pytest.mark.django_db

TEXT = {
    "subject_en": "The Commission replied",
    "body_en": "They **agreed** to meet us. <script>alert(1)</script>",
    "subject_ru": "Комиссия ответила",
    "body_ru": "Они **согласились** встретиться.",
}


def _url(live, name, index=0, **kw):
    return reverse(
        f"updates:{name}", kwargs={"org": live.orgs[index].slug, "slug": live.campaign.slug, **kw}
    )


def _draft(live, index=0, user=None, **fields):
    return services.update_draft(
        campaign=live.campaign,
        organization=live.orgs[index],
        user=user or live.admins[index],
        **(fields or TEXT),
    )


def _approve(live, act, index=1):
    return joint.joint_act_answer(
        act=act, organization=live.orgs[index], user=live.admins[index], approve=True
    )


def _updates_mail():
    return Email.objects.filter(kind=services.MAIL_KIND)


def test_an_editor_without_two_factor_cannot_draft_signer_mail(client, live):
    """Updates reach every signer who asked: a stolen editor password must not open that."""
    editor = make_member(live.orgs[0], Membership.Role.EDITOR, mfa=False)
    client.force_login(editor)
    response = client.post(_url(live, "create"), TEXT)
    assert response.status_code in {302, 403}
    assert "2fa" in response.get("Location", "2fa")
    assert not CampaignUpdate.objects.exists()


def test_an_editor_drafts_previews_and_proposes(client, live):
    editor = make_member(live.orgs[0], Membership.Role.EDITOR)
    client.force_login(editor)
    response = client.post(_url(live, "create"), TEXT)
    update = CampaignUpdate.objects.get()
    assert response.status_code == 302
    preview = client.get(_url(live, "preview", pk=update.pk)).content.decode()
    assert "<strong>agreed</strong>" in preview and "<script>alert" not in preview
    assert "Комиссия ответила" in preview
    response = client.post(_url(live, "propose", pk=update.pk))
    update.refresh_from_db()
    assert update.is_proposed and update.act.rule == JointAct.Rule.UNANIMOUS
    # An editor's proposal still needs its own organization's admin, and the other's.
    assert update.status == CampaignUpdate.Status.DRAFT


def test_sent_only_when_every_cosponsor_approved_to_those_who_asked(
    live, django_capture_on_commit_callbacks
):
    sign(live, "anna@example.org", updates=True, language="ru")
    sign(live, "boris@example.org", updates=False)
    sign(live, "pending@example.org", updates=True, confirm=False)
    update = _draft(live)
    act = services.update_propose(update=update, organization=live.orgs[0], user=live.admins[0])
    assert not _updates_mail().exists()
    with django_capture_on_commit_callbacks(execute=True):
        _approve(live, act)
    update.refresh_from_db()
    assert update.status == CampaignUpdate.Status.SENT
    mail = _updates_mail().get()
    assert mail.to == "anna@example.org"
    assert mail.subject == "Комиссия ответила"  # the language she signed in
    assert mail.bulk and mail.list_scope == campaign_scope(live.campaign.pk) and mail.list_token
    assert "/u/" + mail.list_token in mail.body_text
    assert "<script>" not in mail.body_html and "<strong>согласились</strong>" in mail.body_html


def test_an_objection_stops_it_and_nothing_is_sent(live, django_capture_on_commit_callbacks):
    sign(live, "anna@example.org", updates=True)
    act = services.update_propose(
        update=_draft(live), organization=live.orgs[0], user=live.admins[0]
    )
    with django_capture_on_commit_callbacks(execute=True):
        joint.joint_act_answer(
            act=act, organization=live.orgs[1], user=live.admins[1], approve=False, reason="No."
        )
        joint.joint_acts_settle_due(now=timezone.now() + timedelta(days=30))
    assert not _updates_mail().exists()
    act.refresh_from_db()
    assert act.status == JointAct.Status.PENDING  # unanimous: waits, an objection never sends


def test_the_proposed_text_is_frozen(live):
    """The attack: the drafting editor changes the text after the others approved it."""
    update = _draft(live)
    services.update_propose(update=update, organization=live.orgs[0], user=live.admins[0])
    with pytest.raises(services.UpdateError):
        services.update_edit(
            update=update,
            organization=live.orgs[0],
            user=live.admins[0],
            **{**TEXT, "body_en": "Donate to us"},
        )
    update.refresh_from_db()
    assert "Donate" not in update.body_en


def test_another_cosponsor_cannot_edit_or_propose_a_draft(live):
    update = _draft(live)
    with pytest.raises(services.UpdateError):
        services.update_edit(update=update, organization=live.orgs[1], user=live.admins[1], **TEXT)
    with pytest.raises(services.UpdateError):
        services.update_propose(update=update, organization=live.orgs[1], user=live.admins[1])
    with pytest.raises(services.UpdateError):  # nor an outsider
        _draft(live, user=live.outsider_admin)


def test_a_text_changed_behind_the_act_is_not_sent(live, django_capture_on_commit_callbacks):
    sign(live, "anna@example.org", updates=True)
    update = _draft(live)
    act = services.update_propose(update=update, organization=live.orgs[0], user=live.admins[0])
    CampaignUpdate.objects.filter(pk=update.pk).update(body_en="Something else")
    with django_capture_on_commit_callbacks(execute=True):
        _approve(live, act)
    act.refresh_from_db()
    assert act.status == JointAct.Status.STOPPED
    assert not _updates_mail().exists()


def test_no_objection_rule_sends_after_the_period(
    settings, live, django_capture_on_commit_callbacks
):
    settings.UPDATES_APPROVAL_RULE = "no_objection"
    sign(live, "anna@example.org", updates=True)
    act = services.update_propose(
        update=_draft(live), organization=live.orgs[0], user=live.admins[0]
    )
    assert act.rule == JointAct.Rule.NO_OBJECTION
    with django_capture_on_commit_callbacks(execute=True):
        joint.joint_acts_settle_due(now=timezone.now() + settings.JOINT_ACT_OBJECTION_PERIOD)
    assert _updates_mail().count() == 1


def test_one_mail_per_mailbox_paced_and_suppressed_skipped(
    settings, live, django_capture_on_commit_callbacks
):
    settings.UPDATES_PER_MINUTE = 2
    for i in range(5):
        sign(live, f"p{i}@example.org", updates=True)
    # The same person on a second petition of the campaign, spelled differently: one mail.
    second = campaign_services.petition_create(
        campaign=live.campaign, organization=live.orgs[0], user=live.admins[0],
        title_en="Second", text_en="Again.", addressed_to="EU", goal=10,
    )  # fmt: skip
    live.petition = second
    sign(live, "P0@Example.org", updates=True)
    digest = signing.email_digest("p4@example.org")
    Suppression.objects.create(digest=digest, scope="all", reason="complained")
    act = services.update_propose(
        update=_draft(live), organization=live.orgs[0], user=live.admins[0]
    )
    with django_capture_on_commit_callbacks(execute=True):
        _approve(live, act)
    mails = list(_updates_mail().order_by("next_attempt_at"))
    assert sorted(m.to.lower() for m in mails) == [f"p{i}@example.org" for i in range(4)]
    # Rendered once per language, but each carries its own mailbox's unsubscribe link.
    assert len({m.list_token for m in mails}) == 4
    for m in mails:
        assert f"/u/{m.list_token}" in m.body_text and f"/u/{m.list_token}" in m.body_html
    first = mails[0].next_attempt_at
    assert [round((m.next_attempt_at - first).total_seconds() / 60) for m in mails] == [0, 0, 1, 1]


def test_a_suppression_after_queueing_stops_the_send(
    live, django_capture_on_commit_callbacks, mailoutbox
):
    from outbox.tasks import outbox_send

    sign(live, "anna@example.org", updates=True)
    act = services.update_propose(
        update=_draft(live), organization=live.orgs[0], user=live.admins[0]
    )
    with django_capture_on_commit_callbacks(execute=False):
        _approve(live, act)
        services.update_fanout(update_id=CampaignUpdate.objects.get().pk)
    mail = _updates_mail().get()
    Suppression.objects.create(digest=mail.recipient_digest, scope="all", reason="unsubscribed")
    assert outbox_send.apply(args=(mail.pk,)).get() == "suppressed"
    mail.refresh_from_db()
    assert mail.status == Email.Status.CANCELLED
    assert not [m for m in mailoutbox if m.to == ["anna@example.org"]]


def test_an_outcome_starts_a_prefilled_draft_in_one_click(client, live):
    event = campaign_services.outcome_record(
        campaign=live.campaign, organization=live.orgs[1], user=live.admins[1],
        kind=OutcomeEvent.Kind.MEETING, date=timezone.localdate(),
        description_en="We met the Commissioner's cabinet.", description_ru="",
        evidence_url="https://example.eu/minutes",
    )  # fmt: skip
    client.force_login(live.admins[1])
    page = client.get(_url(live, "list", index=1)).content.decode()
    action = _url(live, "from_outcome", index=1, event=event.pk)
    assert action in page
    response = client.post(action)
    update = CampaignUpdate.objects.get()
    assert response.status_code == 302 and response["Location"].endswith(f"/{update.pk}/edit/")
    assert update.outcome == event and update.drafted_by == live.orgs[1]
    assert "Meeting held" in update.subject_en
    assert "We met the Commissioner's cabinet." in update.body_en
    assert "https://example.eu/minutes" in update.body_en


def test_the_result_can_still_be_told_after_the_campaign_closed(
    live, django_capture_on_commit_callbacks
):
    sign(live, "anna@example.org", updates=True)
    campaign_services.campaign_close(
        campaign=live.campaign, organization=live.orgs[0], user=live.admins[0],
        result="won", result_summary="The guidance was issued.",
    )  # fmt: skip
    event = live.campaign.events.get(kind=OutcomeEvent.Kind.RESULT)
    update = services.update_from_outcome(
        event=event, organization=live.orgs[0], user=live.admins[0]
    )
    act = services.update_propose(update=update, organization=live.orgs[0], user=live.admins[0])
    with django_capture_on_commit_callbacks(execute=True):
        _approve(live, act)
    assert _updates_mail().count() == 1


def test_the_campaign_page_shows_sent_updates_and_who_agreed(
    client, live, django_capture_on_commit_callbacks
):
    draft = _draft(live, subject_en="Secret draft", body_en="Not yet.")
    update = _draft(live)
    act = services.update_propose(update=update, organization=live.orgs[0], user=live.admins[0])
    with django_capture_on_commit_callbacks(execute=True):
        _approve(live, act)
    page = client.get(live.campaign.get_absolute_url()).content.decode()
    assert 'id="updates"' in page
    assert "The Commission replied" in page and "<strong>agreed</strong>" in page
    assert "Alpha Aid" in page[page.index('id="updates"') :] and "Beta Bridge" in page
    assert draft.subject_en not in page
