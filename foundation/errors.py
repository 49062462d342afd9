"""The one family of domain errors.

Every app's error (CampaignError, MembershipError, ...) is a DomainError; the message is for the
person who tried. HTML views show it as a form error or a message; the APIs map it *by kind* to a
status (api/problems.py): a rule about the input is 400, not being allowed 403, something that
does not exist 404, something whose state forbids it now (closed, already answered) 409. An
app's error is Invalid unless it says otherwise, e.g.
``class CampaignConflict(CampaignError, Conflict)``.
"""

from __future__ import annotations


class DomainError(Exception):
    """A rule of the domain was broken; ``str(error)`` says which, to the person who tried."""


class Invalid(DomainError):
    """The input breaks a rule (400)."""


class Forbidden(DomainError):
    """This person or organization may not do this (403)."""


class NotFound(DomainError):
    """What the request names does not exist, or no longer does (404)."""


class Conflict(DomainError):
    """The thing exists, but its state does not allow this now: closed, already answered (409)."""
