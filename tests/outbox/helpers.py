"""Mail as the worker leaves it, for tests that read what a signer (or anyone) was sent.

Mail queued by recipe (``outbox.services.email_enqueue_rendered_later``) has no subject or body
until the sending path renders it; these helpers run that path (render, store, send to the
test's mail backend), as the worker or the embedded mode does after the commit.
"""

from __future__ import annotations

from outbox.models import Email
from outbox.services import emails_send


def send_queued() -> dict[int, str]:
    """Send every queued row that is due now (rendering those queued by recipe); outcomes."""
    ids = list(Email.objects.filter(status=Email.Status.QUEUED).values_list("pk", flat=True))
    return emails_send(ids=ids)


def sent(email: Email) -> Email:
    """The row after the sending path has had it: rendered and sent if it was still queued."""
    emails_send(ids=[email.pk])  # "skipped" if it was sent already (or is not due)
    email.refresh_from_db()
    return email
