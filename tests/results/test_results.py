from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from campaigns import services as campaign_services
from campaigns.models import Campaign, OutcomeEvent
from campaigns.signing import token_make
from outbox.models import Email
from outreach import services as outreach_services
from results import selectors
from tests.factories import UserFactory, make_staff, sign_in

pytestmark = pytest.mark.django_db


def _signatures(live, n, *, source=None, confirm=True):
    for i in range(n):
        s = campaign_services.signature_create(
            petition=live.petition,
            name=f"Signer Number{i}",
            email=f"sig{i}-{source.pk if source else 0}@example.org",
            country=["DE", "LV"][i % 2],
            display="full" if i == 0 else "anonymous",
            source=source,
        )
        if confirm:
            campaign_services.signature_confirm(token=token_make(s.pk, "confirm"))
    while campaign_services.signature_counts_fold():
        pass


def test_signature_figures_come_from_the_aggregates(live):
    _signatures(live, 4, source=live.orgs[1])
    _signatures(live, 2, confirm=False)
    figures = selectors.campaign_signature_figures(campaign=live.campaign)
    assert (figures["confirmed"], figures["started"], figures["confirmation_rate"]) == (4, 6, 67)
    assert dict(figures["by_country"]) == {"Germany": 2, "Latvia": 2}
    assert dict(figures["by_source"]) == {"Beta Bridge": 4}
    hourly = selectors.signatures_hourly(campaign=live.campaign)
    assert len(hourly) == 72 and sum(n for _h, n in hourly) == 4
    assert sum(n for _d, n in selectors.signatures_daily(campaign=live.campaign)) == 4


def test_letter_figures_per_institution_with_reply_rate_and_delay(
    letters, confirmed, contacts, live
):
    for letter in outreach_services.letters_send(letter_campaign=letters, signature=confirmed()):
        Email.objects.filter(pk=letter.email_id).update(
            status=Email.Status.SENT, sent_at=timezone.now() - timedelta(days=4)
        )
    outreach_services.reply_record(
        campaign_id=live.campaign.pk, organization=live.orgs[0], contact=contacts[0], summary="OK"
    )
    rows = {
        r["institution"]: r
        for r in selectors.campaign_letter_figures(campaign=live.campaign)["institutions"]
    }
    assert rows["European Commission"]["sent"] == 1
    assert rows["European Commission"]["reply_rate"] == 100
    assert rows["European Commission"]["median_days_to_reply"] == 4
    assert rows["European Parliament"]["reply_rate"] == 0


def test_a_reply_dated_before_the_letter_is_refused_and_no_delay_is_negative(
    letters, confirmed, contacts, live
):
    from outreach.models import Reply

    for letter in outreach_services.letters_send(letter_campaign=letters, signature=confirmed()):
        Email.objects.filter(pk=letter.email_id).update(
            status=Email.Status.SENT, sent_at=timezone.now() - timedelta(days=1)
        )
    with pytest.raises(outreach_services.OutreachError, match="before the first letter"):
        outreach_services.reply_record(
            campaign_id=live.campaign.pk,
            organization=live.orgs[0],
            contact=contacts[0],
            summary="Dated too early",
            received_at=timezone.now() - timedelta(days=3),
        )
    assert not Reply.objects.exists()
    # A row from before the rule (written around the service) gives no delay, not -2.
    Reply.objects.create(
        campaign=live.campaign,
        contact=contacts[0],
        summary="old data",
        received_at=timezone.now() - timedelta(days=3),
    )
    rows = {
        r["institution"]: r
        for r in selectors.campaign_letter_figures(campaign=live.campaign)["institutions"]
    }
    assert rows["European Commission"]["median_days_to_reply"] is None


def test_organization_record(live):
    _signatures(live, 3, source=live.orgs[0])
    record = selectors.organization_record(organization=live.orgs[0])
    assert record["signatures_gathered"] == 3
    assert list(record["campaigns"]) == [live.campaign]
    assert selectors.organization_record(organization=live.outsider)["signatures_gathered"] == 0


def test_public_pages_never_name_anonymous_signers(client, live):
    _signatures(live, 3)
    for url in [
        reverse("results:results"),
        live.campaign.get_absolute_url(),
        reverse("members:organization", args=[live.orgs[0].slug]),
    ]:
        html = client.get(url).content.decode()
        assert "Number1" not in html and "Number2" not in html  # anonymous signers
        assert "sig1-0@example.org" not in html


def test_results_page_lists_won_and_ongoing_with_timelines(client, live):
    campaign_services.outcome_record(
        campaign=live.campaign,
        organization=live.orgs[0],
        user=live.admins[0],
        kind="policy",
        date=timezone.localdate(),
        description_en="The bank association changed its guidance.",
    )
    html = client.get(reverse("results:results")).content.decode()
    assert live.campaign.title in html and "changed its guidance" in html


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"kind": "statement", "date": timezone.localdate() + timedelta(days=3)}, "meeting"),
        ({"evidence_url": "javascript:alert(1)"}, "https"),
        ({"description_en": " "}, "Describe"),
        ({"kind": "milestone"}, "Choose"),
    ],
)
def test_bad_outcomes_are_rejected(live, kwargs, message):
    data = {"kind": "media", "date": timezone.localdate(), "description_en": "Coverage."} | kwargs
    with pytest.raises(campaign_services.CampaignError, match=message):
        campaign_services.outcome_record(
            campaign=live.campaign, organization=live.orgs[0], user=live.admins[0], **data
        )
    assert not OutcomeEvent.objects.filter(kind=data["kind"]).exists()


def test_scheduled_meeting_may_be_in_the_future(live):
    event = campaign_services.outcome_record(
        campaign=live.campaign,
        organization=live.orgs[0],
        user=live.admins[0],
        kind="meeting",
        date=timezone.localdate() + timedelta(days=5),
        description_en="Meeting with DG FISMA scheduled.",
    )
    assert event.pk


def test_non_cosponsor_cannot_record_but_staff_can_correct(live):
    with pytest.raises(campaign_services.CampaignError):
        campaign_services.outcome_record(
            campaign=live.campaign,
            organization=live.outsider,
            user=live.outsider_admin,
            kind="media",
            date=timezone.localdate(),
            description_en="Fake.",
        )
    staff = UserFactory(is_staff=True)
    event = campaign_services.outcome_record(
        campaign=live.campaign, organization=None, user=staff, kind="media",
        date=timezone.localdate(), description_en="Staff-recorded.",
    )  # fmt: skip
    event = campaign_services.outcome_update(event=event, user=staff, description_en="Corrected.")
    assert event.description_en == "Corrected."
    with pytest.raises(campaign_services.CampaignError):
        campaign_services.outcome_update(event=event, user=live.admins[0], description_en="x")


def test_outcome_form_through_the_workspace(client, live):
    client.force_login(live.admins[1])
    url = reverse(
        "campaigns:outcome_create", kwargs={"org": live.orgs[1].slug, "slug": live.campaign.slug}
    )
    bad = client.post(url, {"kind": "media", "date": "2099-01-01", "description_en": "x"})
    assert bad.status_code == 400 and "Only a meeting" in bad.content.decode()
    good = client.post(
        url,
        {"kind": "media", "date": timezone.localdate().isoformat(), "description_en": "TV report."},
    )
    assert good.status_code == 302
    assert "TV report." in client.get(live.campaign.get_absolute_url()).content.decode()


def test_closing_records_the_result_on_the_timeline(live):
    campaign_services.campaign_close(
        campaign=live.campaign, organization=live.orgs[0], user=live.admins[0],
        result=Campaign.Result.WON, result_summary="Banks must now open basic accounts.",
    )  # fmt: skip
    event = live.campaign.events.get(kind="result")
    assert "Won" in event.description_en


def test_dashboard_for_cosponsors_and_staff_only_with_csv(client, live):
    _signatures(live, 2, source=live.orgs[0])
    kwargs = {"org": live.orgs[0].slug, "slug": live.campaign.slug}
    client.force_login(live.admins[0])
    page = client.get(reverse("results:campaign_dashboard", kwargs=kwargs))
    assert page.status_code == 200 and "<svg" in page.content.decode()
    csv_response = client.get(
        reverse("results:campaign_dashboard", kwargs=kwargs), {"download": "countries"}
    )
    assert csv_response["Content-Type"].startswith("text/csv")
    assert "Germany,1" in csv_response.content.decode()
    client.force_login(live.outsider_admin)
    outsider = {"org": live.outsider.slug, "slug": live.campaign.slug}
    assert client.get(reverse("results:campaign_dashboard", kwargs=outsider)).status_code == 404
    assert (
        client.get(
            reverse("results:campaign_dashboard", kwargs={**kwargs, "org": "staff"})
        ).status_code
        == 404
    )
    sign_in(client, *make_staff())
    assert (
        client.get(
            reverse("results:campaign_dashboard", kwargs={**kwargs, "org": "staff"})
        ).status_code
        == 200
    )
    figures = client.get(reverse("results:staff_figures"), {"download": "signatures"})
    assert figures.status_code == 200 and "month,confirmed" in figures.content.decode()
