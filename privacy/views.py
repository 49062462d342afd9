from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache

from campaigns.signing import digest_from_token
from foundation.ratelimit import limit
from privacy import services


def privacy_page(request: HttpRequest) -> HttpResponse:
    return render(request, "privacy/privacy.html")


@never_cache
def erase(request: HttpRequest, token: str) -> HttpResponse:
    """GET explains and asks; POST erases at once. Link scanners only ever GET."""
    digest = digest_from_token(token)
    if digest is None:
        return render(request, "privacy/erase.html", {"invalid": True}, status=400)
    if request.method == "POST":
        limit(request, scope="signer_link")
        services.signer_erase_by_digest(digest=digest)
        return render(request, "privacy/erase.html", {"done": True})
    return render(request, "privacy/erase.html", {})
