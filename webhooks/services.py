"""The only writers for webhook endpoints and deliveries.

Events arrive through campaigns.events (subscribed in WebhooksConfig.ready): each subscriber
writes one Delivery row per interested endpoint, in the transaction of the event, and nothing
else; the Celery relay sends them (webhooks/tasks.py). Who hears about what:

- ``signature.confirmed``: only the organizations the signer allowed to contact them (consent),
  and only while they co-sponsor the campaign: the same people as the supporter export.
- ``person.withdrawn`` / ``person.erased``: the organizations that were sent the person (a
  ``signature.confirmed`` delivery was written for them), so their CRMs delete the person too.
  Undelivered notices that still carry the person's data are cancelled, and the payloads we
  keep for them are emptied.
- ``campaign.status_changed`` / ``outcome.recorded``: the campaign's co-sponsors.
"""

from __future__ import annotations

import base64
import json
import logging
import random
import uuid
from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from campaigns import events
from campaigns.models import (
    Campaign,
    CoSponsorship,
    OutcomeEvent,
    Signature,
    SupporterConsent,
    SupporterExport,
)
from foundation.errors import DomainError
from foundation.sealed import sealer
from members.access import admin_backs
from members.models import Membership, Organization, User
from members.services import organization_language
from outbox.services import email_enqueue_template
from webhooks import signing, transport
from webhooks.models import Delivery, Endpoint

logger = logging.getLogger(__name__)

EVENT_CHOICES = [
    (
        events.SIGNATURE_CONFIRMED,
        gettext_lazy("signature.confirmed: a supporter who allowed you to contact them confirmed"),
    ),
    (
        events.PERSON_WITHDRAWN,
        gettext_lazy("person.withdrawn: a supporter of yours withdrew a signature"),
    ),
    (events.PERSON_ERASED, gettext_lazy("person.erased: a supporter of yours erased their data")),
    (
        events.CAMPAIGN_STATUS_CHANGED,
        gettext_lazy("campaign.status_changed: a campaign you co-sponsor changed status"),
    ),
    (
        events.OUTCOME_RECORDED,
        gettext_lazy("outcome.recorded: an outcome was recorded on a campaign you co-sponsor"),
    ),
]
PERSON_EVENTS = {events.SIGNATURE_CONFIRMED, events.PERSON_WITHDRAWN, events.PERSON_ERASED}


class WebhookError(DomainError):
    """A webhook rule was broken; the message is shown to the person who tried."""


# --- endpoints --------------------------------------------------------------------------------


def _check(*, organization: Organization, url: str, event_types: list[str], seal: bool) -> None:
    if not event_types or set(event_types) - set(events.EVENTS):
        raise WebhookError(_("Choose at least one event."))
    if seal and not organization.export_public_key:
        raise WebhookError(
            _(
                "Sealing needs your organization's public key: save it under Team → Sealed "
                "supporter exports first."
            )
        )
    try:
        transport.target_check(url)
    except transport.TargetRefused as exc:
        raise WebhookError(str(exc)) from exc


@transaction.atomic
def endpoint_create(
    *,
    organization: Organization,
    user: User,
    url: str,
    event_types: list[str],
    description: str = "",
    seal_personal_data: bool = False,
) -> tuple[Endpoint, str]:
    """A new endpoint and its signing secret, which is shown once and never again."""
    Organization.objects.select_for_update().get(pk=organization.pk)  # one count at a time
    if organization.webhook_endpoints.count() >= settings.WEBHOOKS_ENDPOINTS_PER_ORGANIZATION:
        raise WebhookError(
            _("An organization can have at most %(n)d webhook endpoints.")
            % {"n": settings.WEBHOOKS_ENDPOINTS_PER_ORGANIZATION}
        )
    _check(organization=organization, url=url, event_types=event_types, seal=seal_personal_data)
    secret = signing.secret_generate()
    endpoint = Endpoint.objects.create(
        organization=organization,
        url=url.strip(),
        description=description.strip(),
        events=[name for name in events.EVENTS if name in event_types],
        seal_personal_data=seal_personal_data,
        secret=secret,
        created_by=user,
    )
    return endpoint, secret


@transaction.atomic
def endpoint_update(
    *,
    endpoint: Endpoint,
    url: str,
    event_types: list[str],
    description: str = "",
    seal_personal_data: bool = False,
) -> Endpoint:
    _check(
        organization=endpoint.organization,
        url=url,
        event_types=event_types,
        seal=seal_personal_data,
    )
    endpoint.url = url.strip()
    endpoint.description = description.strip()
    endpoint.events = [name for name in events.EVENTS if name in event_types]
    endpoint.seal_personal_data = seal_personal_data
    endpoint.save(update_fields=["url", "description", "events", "seal_personal_data"])
    return endpoint


@transaction.atomic
def endpoint_rotate_secret(*, endpoint: Endpoint) -> str:
    """A new secret; the old one keeps signing (beside it) for WEBHOOKS_SECRET_OVERLAP."""
    endpoint = Endpoint.objects.select_for_update().get(pk=endpoint.pk)
    secret = signing.secret_generate()
    endpoint.previous_secret = endpoint.secret
    endpoint.previous_secret_until = timezone.now() + settings.WEBHOOKS_SECRET_OVERLAP
    endpoint.secret = secret
    endpoint.save(update_fields=["secret", "previous_secret", "previous_secret_until"])
    return secret


def endpoint_signing_secrets(endpoint: Endpoint, *, now: datetime | None = None) -> list[str]:
    now = now or timezone.now()
    current = [endpoint.secret]
    if (
        endpoint.previous_secret
        and endpoint.previous_secret_until
        and endpoint.previous_secret_until > now
    ):
        current.append(endpoint.previous_secret)
    return current


@transaction.atomic
def endpoint_enable(*, endpoint: Endpoint) -> Endpoint:
    """Switch a disabled endpoint back on. What was held for it goes out now, with a new day of
    retries."""
    if not Endpoint.objects.filter(pk=endpoint.pk, is_active=False).update(
        is_active=True, disabled_at=None, disabled_reason="", consecutive_failures=0
    ):
        raise WebhookError(_("This endpoint is already active."))
    now = timezone.now()
    endpoint.deliveries.filter(status=Delivery.Status.QUEUED).update(
        next_attempt_at=now, expires_at=now + settings.WEBHOOKS_RETRY_FOR, dispatched_at=None
    )
    endpoint.refresh_from_db()
    return endpoint


@transaction.atomic
def endpoint_delete(*, endpoint: Endpoint) -> None:
    endpoint.delete()  # its deliveries (and the personal data in them) go with it


def endpoint_disable(*, endpoint: Endpoint, reason: str) -> bool:
    """Stop sending to an endpoint that keeps failing, and tell the organization's admins.
    True if this call disabled it (so the admins are mailed once)."""
    with transaction.atomic():
        disabled = Endpoint.objects.filter(pk=endpoint.pk, is_active=True).update(
            is_active=False, disabled_at=timezone.now(), disabled_reason=reason[:200]
        )
        if not disabled:
            return False
        organization = endpoint.organization
        url = settings.SITE_URL + reverse(
            "webhooks:endpoint", kwargs={"org": organization.slug, "pk": endpoint.pk}
        )
        admins = Membership.objects.filter(
            organization=organization, role=Membership.Role.ADMIN
        ).select_related("user")
        for membership in admins:
            email_enqueue_template(
                kind="webhooks.endpoint_disabled",
                to=membership.user.email,
                template="webhooks/email/endpoint_disabled",
                context={
                    "organization": organization,
                    "endpoint": endpoint,
                    "reason": reason[:200],
                    "endpoint_url": url,
                },
                language=organization_language(organization),
            )
    logger.warning("webhook endpoint disabled", extra={"endpoint_id": endpoint.pk})
    return True


# --- deliveries -------------------------------------------------------------------------------


def delivery_retry_delay(attempts: int) -> timedelta:
    """Exponential backoff with jitter (half to all of the step), capped at two hours."""
    base = settings.WEBHOOKS_RETRY_BASE_SECONDS * (2 ** max(0, attempts - 1))
    capped = min(base, 2 * 60 * 60)
    return timedelta(seconds=capped / 2 + random.uniform(0, capped / 2))  # noqa: S311


@transaction.atomic
def delivery_replay(*, delivery: Delivery) -> Delivery:
    """Send a delivered or failed event again, with the same id (receivers de-duplicate by it)."""
    if not delivery.endpoint.is_active:
        raise WebhookError(_("Switch the endpoint on again before replaying its events."))
    if not delivery.payload:
        raise WebhookError(
            _("This event can no longer be sent: the personal data in it has been deleted.")
        )
    now = timezone.now()
    replayed = Delivery.objects.filter(
        pk=delivery.pk, status__in=[Delivery.Status.DELIVERED, Delivery.Status.FAILED]
    ).update(
        status=Delivery.Status.QUEUED,
        attempts=0,
        next_attempt_at=now,
        expires_at=now + settings.WEBHOOKS_RETRY_FOR,
        dispatched_at=None,
    )
    if not replayed:
        raise WebhookError(_("This event is already waiting to be sent."))
    delivery.refresh_from_db()
    return delivery


def delivery_log_access(*, delivery: Delivery) -> None:
    """A receiver accepted a ``signature.confirmed``: a supporter's data left for the endpoint's
    organization. Logged where co-sponsors and staff watch exports and API reads
    (campaigns.SupporterExport): one row per endpoint, campaign and day, counting the supporters
    sent, its time that of the latest. A replay counts again: the data left again."""
    if delivery.event_type != events.SIGNATURE_CONFIRMED or delivery.signature_id is None:
        return
    campaign_id = (
        Signature.objects.filter(pk=delivery.signature_id)
        .values_list("petition__campaign_id", flat=True)
        .first()
    )
    if campaign_id is None and delivery.payload:  # the signature was deleted meanwhile
        slug = json.loads(delivery.payload)["data"]["signature"]["campaign"]
        campaign_id = Campaign.objects.filter(slug=slug).values_list("pk", flat=True).first()
    if campaign_id is None:
        return
    with transaction.atomic():
        endpoint = Endpoint.objects.select_for_update().get(pk=delivery.endpoint_id)  # one writer
        label = f"#{endpoint.pk} {urlsplit(endpoint.url).hostname or ''}"[:140]
        now = timezone.now()
        day_start = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
        today = SupporterExport.objects.filter(
            channel=SupporterExport.Channel.WEBHOOK,
            campaign_id=campaign_id,
            organization_id=endpoint.organization_id,
            api_token=label,
            exported_at__gte=day_start,
        )
        if not today.update(row_count=F("row_count") + 1, exported_at=now):
            SupporterExport.objects.create(
                campaign_id=campaign_id,
                organization_id=endpoint.organization_id,
                exported_by_id=endpoint.created_by_id,
                exported_at=now,
                row_count=1,
                channel=SupporterExport.Channel.WEBHOOK,
                api_token=label,
            )


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _enqueue(
    endpoints: Iterable[Endpoint],
    event_type: str,
    data: Any,
    *,
    person: dict[str, Any] | None = None,
    signature_id: int | None = None,
    person_digest: str = "",
) -> list[Delivery]:
    """One delivery row per endpoint that chose this event (disabled ones too: they are held
    until the endpoint is switched on again)."""
    now = timezone.now()
    rows = []
    for endpoint in endpoints:
        if event_type not in endpoint.events:
            continue
        event_id = "msg_" + uuid.uuid4().hex
        body_data = dict(data)
        if person is not None:
            body_data["person"] = _person_for(endpoint, person)
        body = json.dumps(
            {"id": event_id, "type": event_type, "timestamp": _iso(now), "data": body_data},
            ensure_ascii=False,
            separators=(",", ":"),
        )
        rows.append(
            Delivery(
                endpoint=endpoint,
                event_id=event_id,
                event_type=event_type,
                occurred_at=now,
                payload=body,
                signature_id=signature_id,
                person_digest=person_digest,
                next_attempt_at=now,
                expires_at=now + settings.WEBHOOKS_RETRY_FOR,
            )
        )
    return Delivery.objects.bulk_create(rows)


def _person_for(endpoint: Endpoint, person: dict[str, Any]) -> dict[str, Any]:
    """The person's data as this endpoint takes it: plain, or sealed to the organization's
    public key (only the holder of its private key opens it; bin/decrypt-export's key)."""
    if not endpoint.seal_personal_data:
        return person
    key = endpoint.organization.export_public_key
    if not key:
        # The key was removed after the endpoint chose sealing: send nothing personal rather
        # than fall back to plain text.
        return {"withheld": True}
    sealed = sealer(key).encrypt(json.dumps(person, ensure_ascii=False).encode())
    return {"sealed": base64.b64encode(sealed).decode()}


def endpoint_is_backed(endpoint: Endpoint) -> bool:
    """The rule of API tokens: the organization is a member (not suspended) and whoever created
    the endpoint is still its admin. Asked when an event is queued and again before sending."""
    return admin_backs(organization=endpoint.organization, user=endpoint.created_by)


def _endpoints_of(organization_ids: Iterable[int]) -> list[Endpoint]:
    endpoints = Endpoint.objects.filter(organization_id__in=list(organization_ids))
    return [
        e for e in endpoints.select_related("organization", "created_by") if endpoint_is_backed(e)
    ]


def _cosponsor_ids(campaign_id: int) -> set[int]:
    return set(
        CoSponsorship.objects.filter(
            campaign_id=campaign_id, status=CoSponsorship.Status.ACCEPTED
        ).values_list("organization_id", flat=True)
    )


def _signature_data(signature: Signature) -> dict[str, Any]:
    petition = signature.petition
    return {
        "id": signature.pk,
        "petition": petition.slug,
        "campaign": petition.campaign.slug,
    }


def _forget(*, signature_ids: list[int] | None = None, digest: str = "") -> None:
    """A person withdrew or erased: undelivered webhooks that still carry their data are
    cancelled, and the copies we keep of delivered ones are emptied."""
    rows = Delivery.objects.filter(person_digest=digest) if digest else Delivery.objects.none()
    if signature_ids:
        rows = rows | Delivery.objects.filter(signature_id__in=signature_ids)
    rows.filter(status=Delivery.Status.QUEUED).update(status=Delivery.Status.CANCELLED, payload="")
    rows.exclude(payload="").update(payload="")


def on_signature_confirmed(*, signature: Signature) -> None:
    consented = SupporterConsent.objects.filter(signature=signature).values_list(
        "organization_id", flat=True
    )
    organizations = set(consented) & _cosponsor_ids(signature.petition.campaign_id)
    if not organizations:
        return
    _enqueue(
        _endpoints_of(organizations),
        events.SIGNATURE_CONFIRMED,
        {
            "signature": {
                **_signature_data(signature),
                "confirmed_at": _iso(signature.confirmed_at or timezone.now()),
                "source": signature.source.slug if signature.source is not None else None,
            }
        },
        person={
            "name": signature.name,
            "email": signature.email,
            "country": str(signature.country),
            "city": signature.city,
            "language": signature.language,
        },
        signature_id=signature.pk,
        person_digest=signature.email_digest,
    )


def _sent_to(*, signature_ids: list[int]) -> defaultdict[int, set[int]]:
    """Signature id -> the organizations a ``signature.confirmed`` delivery was written for
    (whatever became of it). Only they may have the person, so only they are told that the
    person left: telling one that never had them would hand it their address now."""
    sent: defaultdict[int, set[int]] = defaultdict(set)
    rows = Delivery.objects.filter(
        event_type=events.SIGNATURE_CONFIRMED, signature_id__in=signature_ids
    ).values_list("signature_id", "endpoint__organization_id")
    for signature_id, organization_id in rows:
        if signature_id is not None:
            sent[signature_id].add(organization_id)
    return sent


def on_person_withdrawn(*, signature: Signature) -> None:
    _forget(signature_ids=[signature.pk])
    if signature.status != Signature.Status.CONFIRMED:
        return  # never counted, never sent to anyone
    _enqueue(
        _endpoints_of(_sent_to(signature_ids=[signature.pk])[signature.pk]),
        events.PERSON_WITHDRAWN,
        {"signature": _signature_data(signature)},
        person={"email": signature.email},
        signature_id=signature.pk,
    )


def on_person_erased(*, signatures: list[Signature]) -> None:
    digests = {signature.email_digest for signature in signatures}
    for digest in digests:
        _forget(signature_ids=[s.pk for s in signatures], digest=digest)
    confirmed = {s.pk: s for s in signatures if s.status == Signature.Status.CONFIRMED}
    by_organization: dict[int, list[Signature]] = defaultdict(list)
    for signature_id, organization_ids in _sent_to(signature_ids=list(confirmed)).items():
        for organization_id in organization_ids:
            by_organization[organization_id].append(confirmed[signature_id])
    for endpoint in _endpoints_of(by_organization):
        own = by_organization[endpoint.organization_id]
        _enqueue(
            [endpoint],
            events.PERSON_ERASED,
            {"signatures": sorted(s.pk for s in own)},
            person={"emails": sorted({s.email for s in own})},
        )


def _campaign_data(campaign: Campaign) -> dict[str, Any]:
    return {
        "slug": campaign.slug,
        "title_en": campaign.title_en,
        "title_ru": campaign.title_ru,
        "status": campaign.status,
        "result": campaign.result or None,
        "url": settings.SITE_URL + campaign.get_absolute_url(),
    }


def on_campaign_status_changed(*, campaign: Campaign) -> None:
    _enqueue(
        _endpoints_of(_cosponsor_ids(campaign.pk)),
        events.CAMPAIGN_STATUS_CHANGED,
        {"campaign": _campaign_data(campaign)},
    )


def on_outcome_recorded(*, outcome: OutcomeEvent) -> None:
    endpoints = _endpoints_of(_cosponsor_ids(outcome.campaign_id))
    if not endpoints:
        return
    campaign = Campaign.objects.get(pk=outcome.campaign_id)
    _enqueue(
        endpoints,
        events.OUTCOME_RECORDED,
        {
            "campaign": _campaign_data(campaign),
            "outcome": {
                "id": outcome.pk,
                "kind": outcome.kind,
                "date": outcome.date.isoformat(),
                "description_en": outcome.description_en,
                "description_ru": outcome.description_ru,
                "evidence_url": outcome.evidence_url or None,
                "system": outcome.system,
            },
        },
    )


def events_subscribe() -> None:
    events.event_subscribe(name=events.SIGNATURE_CONFIRMED, subscriber=on_signature_confirmed)
    events.event_subscribe(name=events.PERSON_WITHDRAWN, subscriber=on_person_withdrawn)
    events.event_subscribe(name=events.PERSON_ERASED, subscriber=on_person_erased)
    events.event_subscribe(
        name=events.CAMPAIGN_STATUS_CHANGED, subscriber=on_campaign_status_changed
    )
    events.event_subscribe(name=events.OUTCOME_RECORDED, subscriber=on_outcome_recorded)
