"""Petition deliveries are approved through the co-sponsors' joint acts (campaigns/joint.py).

Each delivery that has approvals becomes one UNANIMOUS act, proposed by its first approver,
with one "approve" answer per approving organization; it is adopted if the delivery went out or
every accepted co-sponsor had approved. The old table goes in the next migration (its own
transaction: PostgreSQL does not drop a table with deferred checks pending in the same one).
"""

from django.db import migrations

KIND = "outreach.delivery"


def forwards(apps, schema_editor):
    PetitionDelivery = apps.get_model("outreach", "PetitionDelivery")
    DeliveryApproval = apps.get_model("outreach", "DeliveryApproval")
    CoSponsorship = apps.get_model("campaigns", "CoSponsorship")
    JointAct = apps.get_model("campaigns", "JointAct")
    JointActAnswer = apps.get_model("campaigns", "JointActAnswer")
    for delivery in PetitionDelivery.objects.select_related("petition").iterator():
        approvals = list(
            DeliveryApproval.objects.filter(delivery=delivery).order_by("approved_at", "pk")
        )
        if not approvals:
            continue
        campaign_id = delivery.petition.campaign_id
        cosponsors = set(
            CoSponsorship.objects.filter(campaign_id=campaign_id, status="accepted").values_list(
                "organization_id", flat=True
            )
        )
        approved = {approval.organization_id for approval in approvals}
        adopted = delivery.status != "awaiting" or (cosponsors and cosponsors <= approved)
        first = approvals[0]
        title = delivery.petition.title_en or delivery.petition.title_ru
        title_ru = delivery.petition.title_ru or delivery.petition.title_en
        act = JointAct.objects.create(
            campaign_id=campaign_id,
            kind=KIND,
            subject_id=delivery.pk,
            rule="unanimous",
            description_en=f"Deliver the petition “{title}” (delivery no. {delivery.pk}), "
            "as one message from all co-sponsors.",
            description_ru=f"Передать петицию «{title_ru}» (передача № {delivery.pk}) одним "
            "письмом от всех соорганизаторов.",
            proposed_by_id=first.organization_id,
            proposed_by_user_id=first.approved_by_id,
            proposed_at=first.approved_at,
            status="adopted" if adopted else "pending",
            settled_at=(delivery.sent_at or approvals[-1].approved_at) if adopted else None,
        )
        JointActAnswer.objects.bulk_create(
            JointActAnswer(
                act=act,
                organization_id=approval.organization_id,
                answer="approve",
                answered_by_id=approval.approved_by_id,
                answered_at=approval.approved_at,
            )
            for approval in approvals
        )


class Migration(migrations.Migration):
    dependencies = [
        ("outreach", "0002_letter_campaign_approval"),
        ("campaigns", "0005_joint_acts"),
    ]

    operations = [
        migrations.RunPython(forwards, migrations.RunPython.noop),
    ]
