"""The mailto: of List-Unsubscribe: mail to unsubscribe+<token>@... unsubscribes at once.

The operator routes that mailbox to the provider's inbound webhook (docs/deploy.md); anymail
verifies the provider's signature and turns the call into the ``inbound`` signal.
"""

from __future__ import annotations

from typing import Any

from anymail.signals import inbound

from outbox import suppression


def on_inbound(sender: object, event: Any, esp_name: str, **kwargs: Any) -> None:
    message = event.message
    addresses = [a.addr_spec for a in (message.to or [])]
    recipient = getattr(message, "envelope_recipient", None)
    if recipient:
        addresses.append(recipient)
    for address in addresses:
        token = suppression.token_from_address(address or "")
        if token:
            suppression.unsubscribe(token=token)


def connect() -> None:
    inbound.connect(on_inbound, dispatch_uid="outbox.unsubscribe_inbound")
