"""Issue 11: the sign POST's petition lookup is kept per process, and never lets a petition that
closed meanwhile be signed (the signature's transaction checks again)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from campaigns import page_cache, selectors, services
from campaigns.models import Campaign, Petition, Signature
from tests.campaigns.signing_helpers import BODY, page

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_lookups():
    selectors._sign_lookups.clear()
    yield
    selectors._sign_lookups.clear()


def _kept(client, live):
    client.get(reverse("campaigns:petition", args=[live.petition.slug]))  # makes the token
    found = selectors.petition_for_sign(slug=live.petition.slug)
    assert found is not None
    return found


def test_the_lookup_is_kept_under_the_page_token_and_dropped_with_it(client, live):
    petition, cosponsors = _kept(client, live)
    assert {o.pk for o in cosponsors} == {o.pk for o in live.orgs}
    with CaptureQueriesContext(connection) as queries:
        again = selectors.petition_for_sign(slug=live.petition.slug)
    assert again is not None and again[0] is petition
    assert len(queries) == 0
    page_cache.public_pages_changed(campaign_ids=[live.campaign.pk])  # a change was made
    with CaptureQueriesContext(connection) as queries:
        renewed = selectors.petition_for_sign(slug=live.petition.slug)
    assert renewed is not None and renewed[0] is not petition
    assert len(queries) > 0
    assert selectors.petition_for_sign(slug="no-such-petition") is None


@pytest.mark.parametrize("how", ["campaign paused", "deadline passed"])
def test_a_petition_that_closed_after_the_lookup_gets_no_signature(client, live, how):
    petition, cosponsors = _kept(client, live)
    # Changed without renewing the token: the kept copy still says "open".
    if how == "campaign paused":
        Campaign.objects.filter(pk=live.campaign.pk).update(status=Campaign.Status.PAUSED)
    else:
        Petition.objects.filter(pk=petition.pk).update(
            deadline=timezone.now() - timedelta(seconds=1)
        )
    assert selectors.petition_for_sign(slug=petition.slug)[0].is_open  # the stale copy
    with pytest.raises(services.CampaignConflict):
        services.signature_create(
            petition=petition,
            name="Late",
            email="late@example.org",
            country="DE",
            cosponsors=cosponsors,
        )
    response = page(client, petition, {**BODY, "email": "late2@example.org"})
    assert response.status_code == 400
    assert not Signature.objects.exists()


def test_a_sign_post_through_the_kept_lookup_still_signs(client, live):
    _kept(client, live)
    response = page(client, live.petition, {**BODY, "email": "fresh@example.org"})
    assert response.status_code == 302
    assert Signature.objects.get().petition_id == live.petition.pk
