"""Abuse found in review of the agenda: each test failed on the code before its fix."""

from __future__ import annotations

import pytest
from django.conf import LazySettings
from django.test import Client, RequestFactory
from django.urls import reverse

from campaigns.limits import sign_limits
from campaigns.models import IssueArea
from foundation.ratelimit import RateLimited
from tests.agenda.conftest import Coalition, open_proposal
from tests.test_tor_limits import ONION, aged_nojs_token


@pytest.mark.django_db
@pytest.mark.nojs_cost
def test_agenda_posts_without_javascript_never_spend_the_petition_signers_budget(
    area: IssueArea, coalition: Coalition, settings: LazySettings
) -> None:
    settings.ONION_HOST = ONION
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, ONION]
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "sign_nojs": "5/h", "agenda_nojs": "5/h"}
    proposal = open_proposal(area, coalition)
    url = reverse("agenda:proposal", args=[proposal.pk])
    bot = Client()
    # a bot through the onion: no per-address limit, aged tokens, a mailbox per domain
    for n in range(5):
        token = aged_nojs_token("agenda_support")
        r = bot.post(url, {"email": f"x{n}@bot{n}.example", "nojs": token}, HTTP_HOST=ONION)
        assert r.status_code == 302
    # the agenda's own budget is spent: the sixth is refused...
    token = aged_nojs_token("agenda_support")
    r = bot.post(url, {"email": "x9@bot9.example", "nojs": token}, HTTP_HOST=ONION)
    assert r.status_code == 429
    # ...but an honest Tor signer of a petition still gets through (the sign view's call)
    sign_limits(
        RequestFactory().post("/p/x/", HTTP_HOST=ONION),
        email="maria@mail.example",
        pow_verified=False,
    )
    with pytest.raises(RateLimited):  # and the petition budget is still a budget
        for _n in range(5):
            sign_limits(
                RequestFactory().post("/p/x/", HTTP_HOST=ONION),
                email="maria@mail.example",
                pow_verified=False,
            )
