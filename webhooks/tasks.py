"""Celery side of webhooks: a relay hands due deliveries to workers, a worker sends one.

Mirrors the outbox (outbox/services.py): every task is idempotent by database state (a delivery
is claimed with a conditional UPDATE, so a task run twice finds nothing to do the second time);
retries are scheduled in the database (``next_attempt_at``), never as Celery ETAs.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from campaigns import events
from webhooks import signing, transport
from webhooks.models import Delivery, Endpoint
from webhooks.services import (
    delivery_log_access,
    delivery_retry_delay,
    endpoint_disable,
    endpoint_is_backed,
    endpoint_signing_secrets,
)

logger = logging.getLogger(__name__)

# Notices that a person withdrew or erased their data: once delivered, we keep no copy.
_FORGET_WHEN_DELIVERED = {events.PERSON_WITHDRAWN, events.PERSON_ERASED}


@shared_task(acks_late=True, time_limit=60, soft_time_limit=50, ignore_result=True)
def webhook_send(delivery_id: int) -> str:
    now = timezone.now()
    claimed = Delivery.objects.filter(
        pk=delivery_id,
        status=Delivery.Status.QUEUED,
        next_attempt_at__lte=now,
        endpoint__is_active=True,
    ).update(status=Delivery.Status.SENDING, claimed_at=now, attempts=F("attempts") + 1)
    if claimed != 1:
        return "skipped"
    delivery = Delivery.objects.select_related(
        "endpoint__organization", "endpoint__created_by"
    ).get(pk=delivery_id)
    endpoint = delivery.endpoint
    if not endpoint_is_backed(endpoint):
        # Suspended since, or its creator is no longer an admin: nothing leaves, and the data
        # kept for it goes.
        Delivery.objects.filter(pk=delivery_id, status=Delivery.Status.SENDING).update(
            status=Delivery.Status.CANCELLED,
            payload="",
            last_error="The organization is not a member, or the endpoint's creator is not "
            "its admin any more.",
        )
        logger.info(
            "webhook delivery cancelled: endpoint not backed", extra={"delivery_id": delivery_id}
        )
        return "cancelled"
    body = delivery.payload.encode()
    try:
        target = transport.target_check(endpoint.url)
    except transport.TargetRefused as exc:
        answer = transport.Answer(status=None, reason=str(exc)[:200])
    else:
        answer = transport.post(
            target,
            body=body,
            headers=signing.headers(
                secrets_=endpoint_signing_secrets(endpoint, now=now),
                event_id=delivery.event_id,
                timestamp=int(timezone.now().timestamp()),
                body=body,
            ),
        )
    if answer.status is not None and 200 <= answer.status < 300:
        with transaction.atomic():
            delivered = Delivery.objects.filter(
                pk=delivery_id, status=Delivery.Status.SENDING
            ).update(
                status=Delivery.Status.DELIVERED,
                delivered_at=timezone.now(),
                last_status_code=answer.status,
                last_error="",
                **({"payload": ""} if delivery.event_type in _FORGET_WHEN_DELIVERED else {}),
            )
            Endpoint.objects.filter(pk=endpoint.pk).update(
                consecutive_failures=0, last_success_at=timezone.now()
            )
            if delivered:
                delivery_log_access(delivery=delivery)
        return "delivered"
    return _failed(delivery, answer)


def _failed(delivery: Delivery, answer: transport.Answer) -> str:
    now = timezone.now()
    delay = delivery_retry_delay(delivery.attempts)
    gives_up = now + delay > delivery.expires_at
    with transaction.atomic():
        Delivery.objects.filter(pk=delivery.pk, status=Delivery.Status.SENDING).update(
            status=Delivery.Status.FAILED if gives_up else Delivery.Status.QUEUED,
            next_attempt_at=now + delay,
            dispatched_at=None,
            last_status_code=answer.status,
            last_error=answer.reason[:200],
        )
        Endpoint.objects.filter(pk=delivery.endpoint_id).update(
            consecutive_failures=F("consecutive_failures") + 1
        )
        failures = Endpoint.objects.values_list("consecutive_failures", flat=True).get(
            pk=delivery.endpoint_id
        )
    logger.info(
        "webhook delivery failed",
        extra={"delivery_id": delivery.pk, "attempts": delivery.attempts, "gave_up": gives_up},
    )
    # 410 Gone: the receiver says it wants no more (Standard Webhooks: disable the endpoint).
    if answer.status == 410 or failures >= settings.WEBHOOKS_DISABLE_AFTER_FAILURES:
        endpoint_disable(
            endpoint=delivery.endpoint,
            reason=answer.reason
            if answer.status == 410
            else f"{failures} failed attempts in a row; last: {answer.reason}",
        )
    return "failed" if gives_up else "deferred"


@shared_task(acks_late=True, time_limit=60, soft_time_limit=50, ignore_result=True)
def webhooks_relay() -> int:
    """Hand due deliveries to workers. Runs every few seconds from beat; safe to run twice.

    Deliveries whose worker died mid-send (SENDING for longer than a send can take) are put
    back first: the receiver may then get that event twice, with the same webhook-id.
    """
    now = timezone.now()
    stuck_before = now - timedelta(seconds=settings.WEBHOOKS_STUCK_AFTER_SECONDS)
    Delivery.objects.filter(status=Delivery.Status.SENDING, claimed_at__lt=stuck_before).update(
        status=Delivery.Status.QUEUED, dispatched_at=None, next_attempt_at=now
    )
    with transaction.atomic():
        ids = list(
            Delivery.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(
                status=Delivery.Status.QUEUED,
                next_attempt_at__lte=now,
                endpoint__is_active=True,
            )
            .filter(Q(dispatched_at__isnull=True) | Q(dispatched_at__lt=stuck_before))
            .order_by("next_attempt_at")
            .values_list("pk", flat=True)[: settings.WEBHOOKS_RELAY_BATCH]
        )
        Delivery.objects.filter(pk__in=ids).update(dispatched_at=now)
    for delivery_id in ids:
        webhook_send.apply_async((delivery_id,))
    return len(ids)


@shared_task(acks_late=True, time_limit=300, soft_time_limit=280, ignore_result=True)
def webhooks_purge() -> int:
    """Empty the kept bodies of old deliveries (they may carry signers' data): the log keeps
    what happened, not what was said. Events held for an endpoint that stayed switched off that
    long are given up. Daily; safe to run twice."""
    cutoff = timezone.now() - settings.WEBHOOKS_PAYLOAD_RETENTION
    given_up = Delivery.objects.filter(
        status=Delivery.Status.QUEUED, created_at__lt=cutoff, endpoint__is_active=False
    ).update(status=Delivery.Status.CANCELLED, payload="")
    return given_up + (
        Delivery.objects.filter(
            status__in=[
                Delivery.Status.DELIVERED,
                Delivery.Status.FAILED,
                Delivery.Status.CANCELLED,
            ],
            created_at__lt=cutoff,
        )
        .exclude(payload="")
        .update(payload="")
    )
