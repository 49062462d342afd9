"""One-click unsubscribe (RFC 8058): the only public pages of the outbox."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from outbox import suppression


# CSRF-exempt on purpose. RFC 8058's one-click POST comes from the mailbox provider's servers
# (Gmail, Yahoo...), with no cookie, no session and no form of ours: a CSRF token cannot exist
# there, and requiring one would break the one click the providers demand. Nothing here relies
# on the session: the unguessable token in the URL (one mailbox, one list) is the whole
# authority, so a forged cross-site POST can only unsubscribe someone whose secret link the
# forger already holds, and could post anyway. The GET only shows a button, because link
# scanners and previews fetch every URL in a mail and must not unsubscribe anyone.
@csrf_exempt
@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    template = "outbox/unsubscribe.html"
    found = suppression.list_token_read(token)
    if found is None:
        error = _("This unsubscribe link is not valid.")
        return render(request, template, {"error": error}, status=404)
    everything = found.scope == suppression.ALL
    if request.method == "POST":
        everything = everything or request.POST.get("everything") == "1"
        suppression.unsubscribe(token=token, everything=everything)
        return render(request, template, {"done": True, "everything": everything})
    return render(request, template, {"everything": everything})
