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


def test_a_repeat_is_found_by_the_insert_itself_and_mails_only_the_mailbox(live, settings):
    """Issue 11: INSERT ... ON CONFLICT DO NOTHING, not a savepoint rolled back on the
    constraint; a repeat writes no row, and past the cooldown the mailbox alone gets a mail."""
    from datetime import timedelta

    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from campaigns.models import Signature
    from outbox.models import Email

    first = services.signature_create(
        petition=live.petition, name="Target", email="target@example.org", country="DE"
    )
    Signature.objects.update(last_mailed_at=timezone.now() - timedelta(days=1))
    with CaptureQueriesContext(connection) as queries:
        repeat = services.signature_create(
            petition=live.petition, name="Someone", email="Target@Example.org", country="LV"
        )
    statements = [q["sql"].upper() for q in queries.captured_queries]
    assert repeat is None
    # The test's own transaction makes the service's atomic() one savepoint; no second one.
    assert [s for s in statements if s.startswith("SAVEPOINT")] == [statements[0]]
    assert not [s for s in statements if s.startswith("ROLLBACK")]
    assert any("ON CONFLICT DO NOTHING" in s for s in statements)
    assert Signature.objects.count() == 1
    first.refresh_from_db()
    assert (first.name, first.country) == ("Target", "DE")  # nothing the repeat typed is kept
    signer_mail = Email.objects.filter(kind__in=services.SIGNER_MAIL_KINDS)
    assert list(signer_mail.values_list("kind", "to").order_by("pk")) == [
        ("campaigns.confirm", "target@example.org"),
        ("campaigns.confirm", "target@example.org"),
    ]
