"""A candidate for the supporter export, served only by the export benchmark (--variant).

Same access checks, audit log, query and CSV bytes as campaigns.views.supporters_export, with two
changes: rows come as tuples (values_list) instead of Signature + Petition instances, and they
are sent in batches of BATCH rows instead of one WSGI chunk per row. The benchmark downloads
both and checks that the bytes are identical before comparing speed.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

from django.db.models import Exists, OuterRef
from django.http import Http404, HttpRequest, StreamingHttpResponse
from django.urls import include, path

from campaigns import services
from campaigns.access import campaign_for
from campaigns.models import Signature, SupporterConsent
from foundation.csvsafe import csv_cell
from members import access

BATCH = 1000
HEADER = ["name", "email", "country", "city", "petition", "confirmed_at"]


def supporters_export_batched(request: HttpRequest, org: str, slug: str) -> StreamingHttpResponse:
    if not request.user.is_authenticated:
        raise Http404
    organization, campaign = campaign_for(request, org, slug, roles=access.EDITORS)
    try:
        export = services.supporter_export_start(
            campaign=campaign, organization=organization, user=access.request_user(request)
        )
    except services.CampaignError as exc:
        raise Http404(str(exc)) from exc
    consented = SupporterConsent.objects.filter(signature=OuterRef("pk"), organization=organization)
    rows = (
        Signature.objects.filter(petition__campaign=campaign, status=Signature.Status.CONFIRMED)
        .filter(Exists(consented))
        .order_by("pk")
        .values_list("name", "email", "country", "city", "petition__slug", "confirmed_at")
        .iterator(chunk_size=2000)
    )

    def stream() -> Iterator[str]:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(HEADER)
        count = 0
        for name, email, country, city, petition_slug, confirmed_at in rows:
            writer.writerow(
                [
                    csv_cell(name),
                    csv_cell(email),
                    country,
                    csv_cell(city),
                    petition_slug,
                    confirmed_at.isoformat() if confirmed_at else "",
                ]
            )
            count += 1
            if count % BATCH == 0:
                yield buffer.getvalue()
                buffer.seek(0)
                buffer.truncate()
        yield buffer.getvalue()
        services.supporter_export_finish(export=export, rows=count)

    response = StreamingHttpResponse(stream(), content_type="text/csv; charset=utf-8")
    response["Cache-Control"] = "private, no-store"
    response["Content-Disposition"] = (
        f'attachment; filename="{campaign.slug}-{organization.slug}-supporters.csv"'
    )
    return response


urlpatterns = [
    path(
        "bench-variant/organizations/<slug:org>/campaigns/<slug:slug>/supporters.csv",
        supporters_export_batched,
    ),
    path("", include("coalition.urls")),
]
