"""The rate limits on signing, one place for the sign page, the widget and the API.

The abuse model (docs/privacy-and-security.md, "Tor, shared addresses and floods"): behind the
onion service every request comes from the local tor daemon, and thousands of Tor users share a
few hundred exits, so a per-address budget would stop everyone or no one. No budget here refuses
an honest signer for sharing an address with others:

- ``sign_ip``: every post from one address (an IPv6 client's whole /64), counted before anything
  else, so invalid posts cost the sender too. A ceiling against one machine hammering the site,
  set high enough for a busy Tor exit; not applied under the onion host, where every signer
  has the same address.
- ``sign_domain``: posts per email domain, counted only for posts that carried a solved proof of
  work. Counting cheap posts here let 615 posts without JavaScript, from 205 addresses, lock every
  gmail.com signer out for an hour (issue 10).
- ``sign_domain_unverified`` and ``sign_nojs``: posts without a solved proof of work (JavaScript
  off) have budgets of their own, per email domain and one for everybody, and on the sign page
  they must also carry an aged, single-use form token (foundation/nojs.py). A flood of them can
  only ever hold back other posts without one, never a signer whose browser did the work.
- Per mailbox (campaigns/services: one signature per mailbox per petition; at most
  ``SIGNATURE_MAILS_PER_MAILBOX`` mails a day from all public forms, outbox/mailbox_cap.py)
  and double opt-in: nothing counts until the emailed link is followed, so a flood of made-up
  addresses adds no signature.
"""

from __future__ import annotations

from django.http import HttpRequest

from campaigns.signing import email_domain
from foundation.nojs import nojs_budget_spend
from foundation.ratelimit import is_onion_request, limit

NOJS_SCOPE = "sign_nojs"
NOJS_PETITION_SCOPE = "sign_nojs_petition"


def sign_ip_limit(request: HttpRequest) -> None:
    """Count any sign post against its address's ceiling (RateLimited when over), except under
    the onion host: there the address is the tor daemon's, shared by every Tor signer."""
    if not is_onion_request(request):
        limit(request, scope="sign_ip")


def sign_limits(
    request: HttpRequest,
    *,
    email: str,
    pow_verified: bool,
    nojs_scope: str = NOJS_SCOPE,
    petition_slug: str = "",
) -> None:
    """Count a valid sign post against its budgets; raise RateLimited (a 429) when over.

    ``nojs_scope`` is the global budget of posts without a solved proof of work: another form
    that takes the sign form's price (the agenda: ``agenda_nojs``) spends its own, so a flood of
    it cannot lock out the petition signers without JavaScript. ``petition_slug``: posts without
    JavaScript also spend that petition's own budget (``sign_nojs_petition``), first."""
    domain = email_domain(email)
    if pow_verified:
        limit(request, scope="sign_domain", key="domain:" + domain)
    else:
        # The domain's budget first: a flood from one domain is stopped there before it can
        # spend much of the budget every signer without JavaScript shares.
        limit(request, scope="sign_domain_unverified", key="domain-unverified:" + domain)
        nojs_budget_spend(
            request,
            scope=nojs_scope,
            obj=petition_slug,
            object_scope=NOJS_PETITION_SCOPE if petition_slug else "",
        )


def osdi_petition_limit(request: HttpRequest, *, petition_slug: str) -> None:
    """A sign-up through the partner API (api/osdi.py) carries no proof of work and no form
    token. Besides its token's own budgets (``osdi_sign``, ``osdi_sign_domain``), all partners'
    sign-ups to one petition share a budget of their own (``osdi_sign_petition``), so that many
    tokens (one organization's, or several) are not the cheap way to flood one petition. Not the
    petition's no-JavaScript budget: a hostile co-sponsor's token could then lock that
    petition's Tor signers out, and a bot without proof of work every partner's sign-ups."""
    limit(request, scope="osdi_sign_petition", key="osdi-petition:" + petition_slug)
