from __future__ import annotations

from celery import shared_task

from agenda import services


@shared_task(acks_late=True, time_limit=300, soft_time_limit=280, ignore_result=True)
def agenda_due() -> tuple[int, int, int, int]:
    """Every minute: hidings nobody confirmed in time, motions past their objection period,
    adoptions that lapsed, then the answers' notices (safe to run twice: rows are claimed with
    skip_locked, notices move a cursor)."""
    return (
        services.hides_expire(),
        services.motions_settle(),
        services.adoptions_lapse(),
        services.answer_notices_send(),
    )


@shared_task(acks_late=True, time_limit=600, soft_time_limit=580, ignore_result=True)
def agenda_purge() -> int:
    """Hourly: delete unconfirmed proposals and supports past their link's expiry."""
    return services.agenda_purge()
