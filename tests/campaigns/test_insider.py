"""Issue 10, item 6: no dashboard figure tells a co-sponsor's member whether someone signed."""

from __future__ import annotations

import pytest

from campaigns import services
from campaigns.signing import token_make
from results import selectors as results
from tests.campaigns.signing_helpers import BODY, api, fold

pytestmark = pytest.mark.django_db


# --- item 6: no insider oracle ----------------------------------------------------------------


def _figures(live):
    fold()
    f = results.campaign_signature_figures(campaign=live.campaign)
    hourly = sum(n for _h, n in results.signatures_hourly(campaign=live.campaign))
    return {
        "confirmed": f["confirmed"],
        "started": f["started"],
        "by_country": dict(f["by_country"]),
        "by_source": dict(f["by_source"]),
        "hourly": hourly,
    }


def _change(before, after):
    change = {}
    for key, value in after.items():
        if isinstance(value, dict):
            keys = {*before[key], *value}
            diffs = {k: value.get(k, 0) - before[key].get(k, 0) for k in keys}
            change[key] = {k: d for k, d in diffs.items() if d}
        else:
            change[key] = value - before[key]
    return change


@pytest.mark.parametrize("target_status", ["confirmed", "pending"])
def test_a_repeat_attempt_moves_the_dashboard_exactly_like_a_fresh_one(
    client, live, pow_solution, target_status
):
    """A member of a co-sponsor signs with a target's address and watches the dashboard."""
    target = services.signature_create(
        petition=live.petition, name="Target", email="target@example.org", country="DE"
    )
    if target_status == "confirmed":
        services.signature_confirm(token=token_make(target.pk, "confirm"))
    services.signature_confirm(
        token=token_make(
            services.signature_create(
                petition=live.petition, name="Other", email="other@example.org", country="LV"
            ).pk,
            "confirm",
        )
    )
    insider = live.orgs[1].slug

    def attempt(email, ip):
        body = {**BODY, "email": email, "source": insider, "altcha": pow_solution()}
        return api(client, live.petition, body, ip=ip)

    before = _figures(live)
    repeat = attempt("Target@example.org", "10.5.0.1")  # the target has signed
    after_repeat = _figures(live)
    fresh = attempt("never.signed@example.org", "10.5.0.2")  # nobody has
    after_fresh = _figures(live)

    assert (repeat.status_code, repeat.json()) == (fresh.status_code, fresh.json())
    assert _change(before, after_repeat) == _change(after_repeat, after_fresh)
    assert _change(before, after_repeat)["started"] == 1
