from __future__ import annotations

from celery import shared_task

from outreach import services


@shared_task(acks_late=True, time_limit=300, soft_time_limit=270, ignore_result=True)
def deliveries_due() -> int:
    """Every minute: send petition deliveries whose milestone or date has come (once each)."""
    return services.deliveries_due()


@shared_task(acks_late=True, time_limit=600, soft_time_limit=570, ignore_result=True)
def reply_surveys_due() -> int:
    return services.reply_surveys_due()
