"""Petition deliveries' old approval rows become the co-sponsors' joint acts (migration 0003)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from campaigns.models import JointAct
from outreach import services
from outreach.models import PetitionDelivery

# Migrations run in their own transactions, as in a deployment.
pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("outreach", "0002_letter_campaign_approval")]
AFTER = [("outreach", "0004_delete_deliveryapproval")]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def test_existing_approvals_become_a_joint_act_that_keeps_counting(live, contacts):
    half = services.delivery_prepare(petition=live.petition, targets=contacts[:1])
    full = services.delivery_prepare(petition=live.petition, targets=contacts[:1], milestone=7)
    old = _migrate(BEFORE)
    approval = old.get_model("outreach", "DeliveryApproval")
    approval.objects.create(
        delivery_id=half.pk, organization_id=live.orgs[1].pk, approved_by_id=live.admins[1].pk
    )
    for org, admin in zip(live.orgs, live.admins, strict=True):
        approval.objects.create(
            delivery_id=full.pk,
            organization_id=org.pk,
            approved_by_id=admin.pk,
            approved_at=timezone.now(),
        )
    _migrate(AFTER)

    half_act = JointAct.objects.get(kind=services.DELIVERY_APPROVAL_ACT, subject_id=half.pk)
    assert half_act.status == JointAct.Status.PENDING
    assert half_act.proposed_by == live.orgs[1]
    assert [a.organization for a in half_act.answers.all()] == [live.orgs[1]]
    full_act = JointAct.objects.get(kind=services.DELIVERY_APPROVAL_ACT, subject_id=full.pk)
    assert full_act.status == JointAct.Status.ADOPTED
    assert full_act.answers.count() == 2
    # The half-approved delivery goes on from where it was: A's admin completes it.
    services.delivery_approve(delivery=half, organization=live.orgs[0], user=live.admins[0])
    assert services.delivery_send_if_ready(delivery=half) is True
    half.refresh_from_db()
    assert half.status == PetitionDelivery.Status.SENT


def test_an_objection_holds_a_delivery_back(live, contacts):
    delivery = services.delivery_prepare(petition=live.petition, targets=contacts[:1])
    services.delivery_approve(delivery=delivery, organization=live.orgs[0], user=live.admins[0])
    act = services.delivery_act(delivery)
    from campaigns import joint

    joint.joint_act_answer(
        act=act, organization=live.orgs[1], user=live.admins[1], approve=False, reason="Too soon."
    )
    assert services.delivery_send_if_ready(delivery=delivery) is False
    assert services.deliveries_due() == 0
    delivery.refresh_from_db()
    assert delivery.status == PetitionDelivery.Status.AWAITING_APPROVAL
