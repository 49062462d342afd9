"""The demo agenda: proposals in both languages at every stage, only reserved example domains."""

from __future__ import annotations

import pytest
from django.conf import LazySettings
from django.core.management import call_command

from agenda.models import Proposal, Support

pytestmark = pytest.mark.django_db


def test_seed_demo_makes_proposals_at_every_stage_and_is_idempotent(
    settings: LazySettings,
) -> None:
    settings.DEBUG = True
    call_command("seed_demo")
    call_command("seed_demo")
    statuses = set(Proposal.objects.values_list("status", flat=True))
    assert {"open", "awaiting", "adopted", "declined"} <= statuses
    assert Proposal.objects.filter(status="awaiting", answer_due__isnull=False).count() == 2
    assert {"ru", "en"} == set(Proposal.objects.values_list("language", flat=True))
    assert Proposal.objects.get(status="adopted").campaign is not None
    addresses = [p.email for p in Proposal.objects.all()] + [s.email for s in Support.objects.all()]
    assert addresses and all(a.endswith("@example.org") for a in addresses)
    assert Proposal.objects.count() == 5
