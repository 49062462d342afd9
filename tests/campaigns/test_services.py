from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from campaigns import services
from campaigns.models import (
    Campaign,
    CampaignRevision,
    CoSponsorship,
    PetitionCountryCount,
    Signature,
    SignatureCountDelta,
)
from campaigns.signing import email_digest, email_normalize, token_make
from members.models import Decision, Vote
from members.services import decision_close, vote_cast
from outbox.models import Email
from tests.factories import MemberOrganizationFactory, OrganizationFactory, make_admin

pytestmark = pytest.mark.django_db


def _sign(petition, email="anna@example.org", **kw):
    return services.signature_create(
        petition=petition,
        name=kw.pop("name", "Anna Petrova"),
        email=email,
        country=kw.pop("country", "DE"),
        **kw,
    )


def _fold():
    while services.signature_counts_fold():
        pass


# --- campaigns and co-sponsors ----------------------------------------------------------------


def test_campaign_goes_live_only_with_two_cosponsors(issue_area):
    org = MemberOrganizationFactory()
    admin = make_admin(org)
    campaign = services.campaign_create(
        organization=org,
        user=admin,
        issue_area=issue_area,
        title_ru="Только по-русски",
        summary_ru="Кратко.",
    )
    with pytest.raises(services.CampaignError, match="at least 2"):
        services.campaign_go_live(campaign=campaign, organization=org, user=admin)
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.DRAFT


def test_only_member_organizations_start_campaigns(issue_area):
    applicant = OrganizationFactory()
    admin = make_admin(applicant)
    with pytest.raises(services.CampaignError):
        services.campaign_create(
            organization=applicant,
            user=admin,
            issue_area=issue_area,
            title_en="x",
        )
    assert not Campaign.objects.exists()


def test_every_cosponsor_has_the_same_rights(live):
    # The organization that did not start the campaign edits, adds a petition and closes it.
    second, admin = live.orgs[1], live.admins[1]
    services.campaign_update(
        campaign=live.campaign, organization=second, user=admin, title_en="Accounts for all"
    )
    services.petition_create(
        campaign=live.campaign,
        organization=second,
        user=admin,
        title_en="Second petition",
        text_en="Text.",
        addressed_to="Council",
        goal=10,
    )
    services.campaign_close(
        campaign=live.campaign,
        organization=second,
        user=admin,
        result=Campaign.Result.PARTLY_WON,
        result_summary="Guidance was published.",
    )
    live.campaign.refresh_from_db()
    assert live.campaign.status == Campaign.Status.CLOSED


def test_non_cosponsor_cannot_edit(live):
    with pytest.raises(services.CampaignError, match="co-sponsors"):
        services.campaign_update(
            campaign=live.campaign,
            organization=live.outsider,
            user=live.outsider_admin,
            title_en="Hijacked",
        )
    live.campaign.refresh_from_db()
    assert live.campaign.title_en == "Bank accounts for all"
    assert not CampaignRevision.objects.exists()


def test_edits_are_kept_as_revision_history(live):
    services.campaign_update(
        campaign=live.campaign,
        organization=live.orgs[1],
        user=live.admins[1],
        title_en="New title",
        summary_en=live.campaign.summary_en,
    )
    revision = CampaignRevision.objects.get()
    assert revision.organization == live.orgs[1]
    assert revision.edited_by == live.admins[1]
    assert revision.changes == {"title_en": ["Bank accounts for all", "New title"]}


def test_services_take_only_the_fields_they_name(live):
    # A field nobody can edit (a count, a status) is refused outright, not silently stored or
    # silently dropped: the services name their fields, the form is the only list of inputs.
    with pytest.raises(TypeError):
        services.petition_create(
            campaign=live.campaign,
            organization=live.orgs[0],
            user=live.admins[0],
            title_en="Inflated",
            addressed_to="Council",
            confirmed_count=1_000_000,
        )
    with pytest.raises(TypeError):
        services.campaign_update(
            campaign=live.campaign,
            organization=live.orgs[0],
            user=live.admins[0],
            status=Campaign.Status.CLOSED,
        )
    live.campaign.refresh_from_db()
    assert live.campaign.status == Campaign.Status.LIVE
    assert not live.campaign.petitions.filter(title_en="Inflated").exists()


def test_a_petition_goal_out_of_range_is_a_domain_error_not_a_database_error(live):
    with pytest.raises(services.CampaignError, match="goal"):
        services.petition_create(
            campaign=live.campaign,
            organization=live.orgs[0],
            user=live.admins[0],
            title_en="No goal",
            addressed_to="Council",
            goal=0,
        )


def test_editing_through_the_form_without_changes_records_no_revision(client, live):
    client.force_login(live.admins[0])
    url = reverse("campaigns:edit", kwargs={"org": live.orgs[0].slug, "slug": live.campaign.slug})
    form = client.get(url).context["form"]
    data = {name: value for name, value in form.initial.items() if value is not None}
    response = client.post(url, data)
    assert response.status_code == 302
    assert not CampaignRevision.objects.exists()


def test_withdrawing_below_minimum_pauses_and_rejoining_resumes(live):
    services.cosponsor_withdraw(
        campaign=live.campaign, organization=live.orgs[1], user=live.admins[1]
    )
    live.campaign.refresh_from_db()
    assert live.campaign.status == Campaign.Status.PAUSED
    assert not live.petition.is_open
    live.outsider_joins()
    live.campaign.refresh_from_db()
    assert live.campaign.status == Campaign.Status.LIVE


def test_invited_organization_admin_declines(live):
    invitation = live.invite_outsider()
    with pytest.raises(services.CampaignError):  # not the invited organization's admin
        services.cosponsor_respond(cosponsorship=invitation, user=live.admins[0], accept=True)
    services.cosponsor_respond(cosponsorship=invitation, user=live.outsider_admin, accept=False)
    invitation.refresh_from_db()
    assert invitation.status == CoSponsorship.Status.DECLINED
    with pytest.raises(services.CampaignError, match="already been answered"):
        services.cosponsor_respond(cosponsorship=invitation, user=live.outsider_admin, accept=True)


def test_closing_requires_a_result_and_summary(live):
    for result, summary in [("", "Summary"), ("won", "  ")]:
        with pytest.raises(services.CampaignError):
            services.campaign_close(
                campaign=live.campaign,
                organization=live.orgs[0],
                user=live.admins[0],
                result=result,
                result_summary=summary,
            )
    live.campaign.refresh_from_db()
    assert live.campaign.status == Campaign.Status.LIVE


def test_endorsement_decision_marks_the_campaign(live):
    decision = services.campaign_request_endorsement(
        campaign=live.campaign, organization=live.orgs[0], user=live.admins[0]
    )
    assert decision.kind == Decision.Kind.ENDORSE_CAMPAIGN
    with pytest.raises(services.CampaignError, match="already open"):
        services.campaign_request_endorsement(
            campaign=live.campaign, organization=live.orgs[1], user=live.admins[1]
        )
    for org, admin in [(live.orgs[0], live.admins[0]), (live.outsider, live.outsider_admin)]:
        vote_cast(decision=decision, organization=org, user=admin, choice=Vote.Choice.AGREE)
    decision_close(decision=decision, now=decision.deadline)
    live.campaign.refresh_from_db()
    assert live.campaign.endorsed_at is not None


# --- signing ----------------------------------------------------------------------------------


def test_signature_counts_only_after_confirmation(live, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        signature = _sign(live.petition, consents=[live.orgs[1]])
    assert signature.status == Signature.Status.PENDING
    _fold()
    live.petition.refresh_from_db()
    assert live.petition.confirmed_count == 0
    assert "confirm" in mail.outbox[0].subject.lower()
    assert "/signatures/not-me/" in mail.outbox[0].body  # every email: "it wasn't me"
    services.signature_confirm(token=token_make(signature.pk, "confirm"))
    _fold()
    live.petition.refresh_from_db()
    assert live.petition.confirmed_count == 1
    assert PetitionCountryCount.objects.get(petition=live.petition, country="DE").count == 1


def test_confirming_twice_counts_once(live):
    signature = _sign(live.petition)
    token = token_make(signature.pk, "confirm")
    services.signature_confirm(token=token)
    services.signature_confirm(token=token)
    _fold()
    live.petition.refresh_from_db()
    assert live.petition.confirmed_count == 1


@pytest.mark.parametrize(
    "token",
    ["garbage", token_make(1, "withdraw"), token_make(999999, "confirm")],
    # Fixed ids: a token holds the time it was made, and each xdist worker collects on its own,
    # so ids taken from the tokens could differ between workers (which xdist refuses).
    ids=["garbage", "withdraw-token-for-confirm", "unknown-signature"],
)
def test_tampered_or_wrong_tokens_change_nothing(live, token):
    _sign(live.petition)
    with pytest.raises(services.CampaignError):
        services.signature_confirm(token=token)
    assert Signature.objects.get().status == Signature.Status.PENDING


def test_expired_confirmation_token_is_refused(live, settings):
    signature = _sign(live.petition)
    token = token_make(signature.pk, "confirm")
    settings.SIGNATURE_CONFIRM_WITHIN = timedelta(seconds=-1)
    with pytest.raises(services.CampaignError, match="expired"):
        services.signature_confirm(token=token)


@pytest.mark.parametrize(
    "variant", ["ANNA@example.org", " anna+petition@Example.org ", "anna@EXAMPLE.ORG"]
)
def test_same_email_signs_once_and_gets_mail_not_an_error(live, variant, settings):
    settings.SIGNATURE_RESEND_COOLDOWN = timedelta(0)
    first = _sign(live.petition)
    assert first is not None
    assert _sign(live.petition, email=variant) is None
    assert Signature.objects.count() == 1
    assert Email.objects.filter(kind="campaigns.confirm").count() == 2  # re-sent, not revealed


def test_resend_is_rate_limited_per_signature(live):
    _sign(live.petition)
    _sign(live.petition)
    _sign(live.petition)
    assert Email.objects.filter(kind="campaigns.confirm").count() == 1


def test_database_enforces_one_signature_per_email(live):
    signature = _sign(live.petition)
    with pytest.raises(IntegrityError), transaction.atomic():
        Signature.objects.create(
            petition=live.petition,
            name="X",
            email="x@example.org",
            email_digest=signature.email_digest,
            country="DE",
        )


def test_email_normalization_policy():
    assert email_normalize("  Ivan.Petrov+eu@GoogleMail.com ") == "ivanpetrov@gmail.com"
    assert email_normalize("ivan.petrov+x@example.org") == "ivan.petrov@example.org"
    assert email_normalize("ＩＶＡＮ@example.org") == "ivan@example.org"  # NFKC full-width


def test_signing_a_closed_petition_is_refused(live):
    live.petition.deadline = timezone.now() - timedelta(minutes=1)
    live.petition.save()
    with pytest.raises(services.CampaignError, match="closed"):
        _sign(live.petition)
    assert not Signature.objects.exists()


def test_consent_and_source_only_for_cosponsors(live):
    signature = _sign(live.petition, consents=[live.orgs[0], live.outsider], source=live.outsider)
    assert list(signature.consents.values_list("organization", flat=True)) == [live.orgs[0].pk]
    assert signature.source is None


def test_withdrawal_deletes_personal_data_and_uncounts(live):
    signature = _sign(live.petition, consents=[live.orgs[0]])
    services.signature_confirm(token=token_make(signature.pk, "confirm"))
    _fold()
    services.signature_withdraw(token=token_make(signature.pk, "withdraw"))
    _fold()
    live.petition.refresh_from_db()
    assert live.petition.confirmed_count == 0
    assert not Signature.objects.exists()
    assert not Signature.objects.filter(email_digest=email_digest("anna@example.org")).exists()


def test_not_me_link_deletes_pending_signature(live):
    signature = _sign(live.petition)
    services.signature_not_me(token=token_make(signature.pk, "not-me"))
    assert not Signature.objects.exists()
    with pytest.raises(services.CampaignError):
        services.signature_not_me(token=token_make(signature.pk, "not-me"))


def test_reminders_then_expiry(live, settings):
    settings.SIGNATURE_REMINDERS = 2
    signature = _sign(live.petition)
    start = signature.created_at
    interval = settings.SIGNATURE_REMINDER_INTERVAL
    assert services.signatures_remind_and_expire(now=start + interval / 2) == (0, 0)
    assert services.signatures_remind_and_expire(now=start + interval * 1.1) == (1, 0)
    assert services.signatures_remind_and_expire(now=start + interval * 2.2) == (1, 0)
    assert services.signatures_remind_and_expire(now=start + interval * 3.3) == (0, 0)  # max 2
    assert Email.objects.filter(kind="campaigns.reminder").count() == 2
    later = start + settings.SIGNATURE_CONFIRM_WITHIN + timedelta(seconds=1)
    assert services.signatures_remind_and_expire(now=later)[1] == 1
    assert not Signature.objects.exists()


def test_counts_fold_without_scanning_and_match_a_recount(live):
    for n in range(12):
        s = _sign(live.petition, email=f"p{n}@example.org", country=["DE", "FR", "LV"][n % 3])
        services.signature_confirm(token=token_make(s.pk, "confirm"))
    assert SignatureCountDelta.objects.filter(kind="confirmed").count() == 12
    assert SignatureCountDelta.objects.filter(kind="started").count() == 12
    _fold()
    assert not SignatureCountDelta.objects.exists()
    live.petition.refresh_from_db()
    folded = (
        live.petition.confirmed_count,
        sorted(live.petition.country_counts.values_list("country", "count")),
    )
    services.signature_counts_rebuild(petition=live.petition)
    live.petition.refresh_from_db()
    recount = (
        live.petition.confirmed_count,
        sorted(live.petition.country_counts.values_list("country", "count")),
    )
    assert folded == recount == (12, [("DE", 4), ("FR", 4), ("LV", 4)])
    assert live.petition.started_count == 12
    live.petition.refresh_from_db()
    hours = live.petition.hour_counts.all()
    assert sum(h.confirmed for h in hours) == 12 and sum(h.started for h in hours) == 12
    assert sum(s.confirmed for s in live.petition.source_counts.all()) == 12


def test_crossing_the_goal_puts_a_milestone_on_the_timeline(live):
    live.petition.goal = 3
    live.petition.save()
    for n in range(3):
        s = _sign(live.petition, email=f"g{n}@example.org")
        services.signature_confirm(token=token_make(s.pk, "confirm"))
    _fold()
    events = live.campaign.events.filter(kind="milestone")
    assert [e.description_en for e in events] == [
        "3 confirmed signatures on “Keep our accounts open”"
    ]
    _fold()
    assert live.campaign.events.filter(kind="milestone").count() == 1
