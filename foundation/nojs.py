"""The cost of a form sent without JavaScript: an aged, single-use form token and a global budget.

People reach the site through Tor Browser at its "Safest" level, where no script runs, so the
proof of work (campaigns/pow.py) cannot be asked of them, and behind the onion service every
request comes from the same address, so a per-address limit would stop all of them or none.
What such a form costs instead:

1. **An aged form token.** Every render of the form carries a fresh signed token (a random
   nonce, the time it was issued, the form and the object it is about: a token of one
   petition's page is refused by every other petition). A post is accepted only with a token
   of this form that is at least ``NOJS_MIN_SECONDS`` old (a person reads and types for longer
   than that; a script that fetches and posts at once is refused), at most ``NOJS_MAX_AGE``
   old, and never used before (the nonce is spent in the cache). A bot can still wait, so
   this only slows a flood:
2. **A global budget** per form (``settings.RATE_LIMITS["<scope>"]``, one counter for everyone)
   caps what all posts without JavaScript can do in an hour, and the sign form adds a smaller
   budget per petition (``sign_nojs_petition``), spent first, so that draining one petition's
   budget leaves most of the shared one to the signers of the others. When it is spent, the
   refusal says so plainly and how to get through anyway (switch JavaScript on for the site,
   or come back later); posts whose browser did the proof of work never count against it.

Chosen over a server-side puzzle (a question, arithmetic, an image CAPTCHA): those cost people
far more than bots, leak the language, and an image CAPTCHA is unusable for blind readers.

Reuse for any public form (a case report, for instance)::

    class CaseReportForm(NoJsCostMixin, forms.Form):
        nojs_purpose = "case_report"
        ...

    # the view, once the form is valid and before writing anything:
    if not form.nojs_cost_paid(request, scope="case_report_nojs"):  # scope in RATE_LIMITS
        ...  # form.errors now holds the reason; re-render it (the new token renders by itself)

and render ``{{ form.nojs }}`` inside the ``<form>`` (``{{ form }}`` renders it too).
"""

from __future__ import annotations

import secrets
import time
from typing import Any, ClassVar

from django import forms
from django.conf import settings
from django.core import signing
from django.core.cache import cache
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from foundation.ratelimit import limit

_SALT = "foundation.nojs"
_USED_KEY = "nojs:used:"
MAX_TOKEN_CHARS = 300


class NoJsCostError(Exception):
    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.code = code


def nojs_token_issue(*, purpose: str, obj: str = "") -> str:
    """A fresh token for one render of a form named ``purpose``, about ``obj`` (the petition's
    slug for the sign form): it is refused by any other form and for any other object."""
    payload = {"p": purpose, "o": obj, "n": secrets.token_urlsafe(12), "t": int(time.time())}
    return signing.dumps(payload, salt=_SALT)


def nojs_token_spend(*, token: str, purpose: str, obj: str = "") -> None:
    """Accept the token once, or raise NoJsCostError saying what to do."""
    expired = NoJsCostError(
        str(_("This form was open too long or was changed. Please check it and send it again.")),
        "nojs_expired",
    )
    if not token or len(token) > MAX_TOKEN_CHARS:
        raise expired
    try:
        data = signing.loads(token, salt=_SALT)
    except signing.BadSignature:
        raise expired from None
    if not isinstance(data, dict) or data.get("p") != purpose or data.get("o", "") != obj:
        raise expired
    issued, nonce = data.get("t"), data.get("n")
    if not isinstance(issued, int) or not isinstance(nonce, str):
        raise expired
    age = time.time() - issued
    if age > settings.NOJS_MAX_AGE_SECONDS:
        raise expired
    if age < settings.NOJS_MIN_SECONDS:
        raise NoJsCostError(
            str(
                _(
                    "That was quicker than anyone can fill in this form. Please check it and "
                    "send it again."
                )
            ),
            "nojs_too_fast",
        )
    try:
        # Atomic (SET NX in Redis): of two posts of one token, one wins.
        fresh = cache.add(_USED_KEY + nonce, 1, timeout=settings.NOJS_MAX_AGE_SECONDS + 60)
    except Exception:
        fresh = True  # the cache is down: like the rate limits, fail open for the outage
    if not fresh:
        raise NoJsCostError(
            str(_("This form was already sent once. Please send it again from this page.")),
            "nojs_reused",
        )


def nojs_budget_spend(
    request: HttpRequest, *, scope: str, obj: str = "", object_scope: str = ""
) -> None:
    """Count one post without JavaScript against the budget everyone shares (RateLimited when
    it is spent: the 429 page explains it, see templates/429.html).

    With ``obj`` and ``object_scope`` (the petition and ``sign_nojs_petition``), first against
    that object's own, smaller budget: a flood aimed at one petition is stopped there and spends
    at most that much of the shared one, so no-JavaScript signers of other petitions still get
    through."""
    if obj and object_scope:
        limit(request, scope=object_scope, key=f"global:{object_scope}:{obj}")
    limit(request, scope=scope, key=f"global:{scope}")


class NoJsTokenInput(forms.HiddenInput):
    """Renders a fresh token every time, whatever was posted: a form shown again with its errors
    needs a new token (the posted one is spent), and the waiting starts again from that page."""

    def __init__(self, *, purpose: str, obj: str = "", attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs)
        self.purpose = purpose
        self.obj = obj

    def format_value(self, value: Any) -> str:
        return nojs_token_issue(purpose=self.purpose, obj=self.obj)


class NoJsCostMixin(forms.Form):
    """Adds the hidden ``nojs`` token field; ``nojs_cost_paid`` checks it and spends the budget.

    Put it first among the bases. ``nojs_purpose`` names the form (a token of one form is
    refused by another).
    """

    nojs_purpose: ClassVar[str] = "form"

    def __init__(self, *args: Any, nojs_object: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # What the form is about (a petition's slug): its tokens are good for that alone.
        self.nojs_object = nojs_object
        self.fields["nojs"] = forms.CharField(
            required=False,
            max_length=MAX_TOKEN_CHARS,
            widget=NoJsTokenInput(purpose=self.nojs_purpose, obj=nojs_object),
        )

    def nojs_token_check(self) -> bool:
        """Spend the posted token; on failure add its reason to the form and answer False."""
        try:
            nojs_token_spend(
                token=str(self.data.get("nojs", "")),
                purpose=self.nojs_purpose,
                obj=self.nojs_object,
            )
        except NoJsCostError as exc:
            self.add_error(None, forms.ValidationError(str(exc), code=exc.code))
            return False
        return True

    def nojs_cost_paid(self, request: HttpRequest, *, scope: str) -> bool:
        """For a valid form posted without any other proof: the token, then the global budget
        (raises RateLimited when the budget is spent)."""
        if not self.nojs_token_check():
            return False
        nojs_budget_spend(request, scope=scope)
        return True
