"""Public results, co-sponsors' campaign dashboards and the staff's coalition figures."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from typing import Any

from django.contrib.admin.views.decorators import staff_member_required
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils.translation import gettext as _

from campaigns.access import campaign_for
from campaigns.models import Campaign
from foundation.csvsafe import csv_row
from members import access
from results import charts, selectors


def _csv(filename: str, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}.csv"'
    writer = csv.writer(response)
    writer.writerow(header)
    for row in rows:
        writer.writerow(csv_row(row))
    return response


def results_page(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "results/results.html",
        {**selectors.results_public(), "figures": selectors.coalition_figures()},
    )


def _campaign_for_dashboard(request: HttpRequest, org: str, slug: str) -> Campaign:
    """Co-sponsors (any role) see their campaign's dashboard; staff see every campaign's."""
    access.request_user(request)
    if org == "staff" and access.is_staff(request):  # staff without two-factor are sent to it
        return get_object_or_404(Campaign, slug=slug)
    _organization, campaign = campaign_for(request, org, slug, roles=access.EVERYONE)
    return campaign


@login_required
def campaign_dashboard(request: HttpRequest, org: str, slug: str) -> HttpResponse:
    campaign = _campaign_for_dashboard(request, org, slug)
    signatures = selectors.campaign_signature_figures(campaign=campaign)
    letters = selectors.campaign_letter_figures(campaign=campaign)
    hourly = selectors.signatures_hourly(campaign=campaign)
    daily = selectors.signatures_daily(campaign=campaign)
    download = request.GET.get("download", "")
    tables: dict[str, tuple[list[str], list[Sequence[Any]]]] = {
        "hourly": (["hour", "confirmed"], [(h.isoformat(), n) for h, n in hourly]),
        "daily": (["day", "confirmed"], [(d.isoformat(), n) for d, n in daily]),
        "countries": (["country", "confirmed"], signatures["by_country"]),
        "sources": (["organization", "confirmed"], signatures["by_source"]),
        "channels": (["channel", "visits"], signatures["by_channel"]),
        "institutions": (
            [
                "institution",
                "queued",
                "sent",
                "bounced",
                "failed",
                "replied",
                "reply_rate_percent",
                "median_days_to_reply",
            ],
            [
                (
                    r["institution"],
                    r["queued"],
                    r["sent"],
                    r["bounced"],
                    r["failed"],
                    r["replied"],
                    r["reply_rate"],
                    r["median_days_to_reply"],
                )
                for r in letters["institutions"]
            ],
        ),
    }
    if download:
        if download not in tables:
            raise Http404
        header, rows = tables[download]
        return _csv(f"{campaign.slug}-{download}", header, rows)
    return render(
        request,
        "results/campaign_dashboard.html",
        {
            "campaign": campaign,
            "org": org,
            "signatures": signatures,
            "letters": letters,
            "hourly": hourly,
            "daily": daily,
            "charts": {
                "hourly": charts.bar_chart(
                    [(h.strftime("%d.%m %H:00"), n) for h, n in hourly],
                    title=_("Confirmed signatures per hour, last 72 hours"),
                ),
                "daily": charts.bar_chart(
                    [(d.strftime("%d.%m"), n) for d, n in daily],
                    title=_("Confirmed signatures per day"),
                ),
                "countries": charts.hbar_chart(
                    signatures["by_country"][:15], title=_("Signatures by country of residence")
                ),
                "sources": charts.hbar_chart(
                    signatures["by_source"], title=_("Signatures by recruiting organization")
                ),
            },
        },
    )


@staff_member_required
def staff_figures(request: HttpRequest) -> HttpResponse:
    if not access.is_staff(request):  # staff without two-factor are sent to set it up
        raise PermissionDenied
    figures = selectors.coalition_figures()
    download = request.GET.get("download", "")
    tables = {
        "status": (["status", "campaigns"], figures["by_status"]),
        "results": (["result", "campaigns"], figures["by_result"]),
        "signatures": (
            ["month", "confirmed"],
            [(m.date().isoformat(), n) for m, n in figures["signatures_per_month"]],
        ),
        "letters": (
            ["month", "sent"],
            [(m.date().isoformat(), n) for m, n in figures["letters_per_month"]],
        ),
        "areas": (["issue_area", "signatures"], figures["top_areas"]),
    }
    if download:
        if download not in tables:
            raise Http404
        header, rows = tables[download]
        return _csv(f"coalition-{download}", header, rows)
    campaigns = selectors.campaigns_for_staff(
        query=request.GET.get("q", "")[:100], status=request.GET.get("status", "")
    )
    return render(
        request,
        "results/staff_figures.html",
        {
            "figures": figures,
            "campaigns": campaigns[:200],
            "statuses": Campaign.Status.choices,
            "q": request.GET.get("q", ""),
            "status": request.GET.get("status", ""),
            "charts": {
                "signatures": charts.bar_chart(
                    [(m.strftime("%m.%Y"), n) for m, n in figures["signatures_per_month"]],
                    title=_("Confirmed signatures per month"),
                ),
                "letters": charts.bar_chart(
                    [(m.strftime("%m.%Y"), n) for m, n in figures["letters_per_month"]],
                    title=_("Letters sent per month"),
                ),
                "areas": charts.hbar_chart(figures["top_areas"], title=_("Top issue areas")),
            },
        },
    )
