from __future__ import annotations

from celery import shared_task

from campaigns import joint, services


@shared_task(acks_late=True, time_limit=60, soft_time_limit=50, ignore_result=True)
def signature_counts_fold() -> int:
    """Every two seconds: fold confirmed/withdrawn deltas into the public counts."""
    total = 0
    while folded := services.signature_counts_fold():
        total += folded
    return total


@shared_task(acks_late=True, time_limit=600, soft_time_limit=570, ignore_result=True)
def signatures_remind_and_expire() -> tuple[int, int]:
    return services.signatures_remind_and_expire()


@shared_task(acks_late=True, time_limit=300, soft_time_limit=270, ignore_result=True)
def joint_acts_settle() -> int:
    """Every minute: settle co-sponsors' joint acts whose objection period has passed."""
    return joint.joint_acts_settle_due()
