"""What happened to campaigns and signers, for other apps to act on in the same transaction.

The apps where things happen (campaigns, privacy) call ``event_emit`` at the moment they happen,
inside their transaction; apps that react (webhooks) subscribe in their AppConfig.ready(). The
emitting apps import nothing of the subscribers, so a subscriber can be added or removed without
touching them. Subscribers run synchronously and must only write rows (an outbox), never talk to
the network: if the transaction rolls back, what they wrote goes with it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

SIGNATURE_CONFIRMED = "signature.confirmed"  # signature=Signature (confirmed, consents final)
PERSON_WITHDRAWN = "person.withdrawn"  # signature=Signature, before it is deleted
PERSON_ERASED = "person.erased"  # signatures=list[Signature], before they are deleted
CAMPAIGN_STATUS_CHANGED = "campaign.status_changed"  # campaign=Campaign, with its new status
OUTCOME_RECORDED = "outcome.recorded"  # outcome=OutcomeEvent, just created

EVENTS = (
    SIGNATURE_CONFIRMED,
    PERSON_WITHDRAWN,
    PERSON_ERASED,
    CAMPAIGN_STATUS_CHANGED,
    OUTCOME_RECORDED,
)

Subscriber = Callable[..., None]
_SUBSCRIBERS: dict[str, list[Subscriber]] = {}


def event_subscribe(*, name: str, subscriber: Subscriber) -> None:
    if name not in EVENTS:
        raise ValueError(f"unknown event {name!r}")
    subscribers = _SUBSCRIBERS.setdefault(name, [])
    if subscriber not in subscribers:  # ready() may run twice in tests; subscribe once
        subscribers.append(subscriber)


def event_emit(name: str, **data: Any) -> None:
    for subscriber in _SUBSCRIBERS.get(name, ()):
        subscriber(**data)
