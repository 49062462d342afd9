"""Migration 0007 drops the co-sponsor-typed reply address and re-encodes approvals: a letter
campaign approved as it stands stays approved; one changed since stays off the air."""

from __future__ import annotations

import importlib

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from outreach import selectors
from outreach.models import LetterCampaign

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("outreach", "0006_remove_lettercampaign_test_address")]
AFTER = [("outreach", "0007_remove_lettercampaign_reply_to")]
_migration = importlib.import_module("outreach.migrations.0007_remove_lettercampaign_reply_to")


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def test_an_approved_letter_stays_approved_and_a_changed_one_does_not(live, contacts):
    old = _migrate(BEFORE)
    model = old.get_model("outreach", "LetterCampaign")
    kept, changed = (
        model.objects.create(
            campaign_id=live.campaign.pk,
            petition_id=live.petition.pk,
            subject_en=subject,
            body_en="Dear {target_name}",
            targeting="fixed",
            reply_to="replies@coalition.example",
            test_mode=False,
        )
        for subject in ("Kept", "Changed")
    )
    for letter_campaign in (kept, changed):
        letter_campaign.targets.set([contacts[0].pk])
        letter_campaign.approved_fingerprint = _migration._fingerprint(letter_campaign, old=True)
        letter_campaign.save()
    changed.subject_en = "Changed after approval"
    changed.save()
    _migrate(AFTER)
    assert selectors.letter_campaign_is_approved(LetterCampaign.objects.get(pk=kept.pk))
    assert not selectors.letter_campaign_is_approved(LetterCampaign.objects.get(pk=changed.pk))
