"""Issue 16: limits that do not punish Tor, and the cost of a form sent without JavaScript.

Behind the onion every request comes from the tor daemon, and many Tor users share an exit: 100
different people signing through one address in an hour must all get through, while one
flooding source (one mailbox, one domain, posts without proof of work) is still stopped.
"""

from __future__ import annotations

import contextlib
import time
from datetime import UTC, date, datetime, timedelta
from unittest import mock

import pytest
from django.conf import LazySettings
from django.core import signing
from django.core.cache import cache
from django.test import Client, RequestFactory
from django.urls import reverse

from campaigns.limits import sign_limits
from campaigns.models import Signature
from campaigns.signing import email_digest
from foundation import nojs, ratelimit
from outbox.models import Email
from tests.campaigns.conftest import LiveCampaign, pow_solution  # noqa: F401
from tests.campaigns.signing_helpers import open_petitions

pytestmark = [pytest.mark.django_db, pytest.mark.nojs_cost]

ONION = "b" * 52 + "qrst.onion"
# As the tor daemon connects: to the onion port (settings.ONION_PORT), naming the onion.
VIA_ONION = {"HTTP_HOST": ONION, "SERVER_PORT": "8001"}
SHARED_EXIT = "185.220.101.7"  # one Tor exit, many people


def aged_nojs_token(purpose: str = "sign", age: float = 60.0, obj: str = "") -> str:
    """The token a page rendered ``age`` seconds ago carried (about ``obj``: for the sign form,
    the petition's slug)."""
    with mock.patch.object(nojs.time, "time", return_value=time.time() - age):
        return nojs.nojs_token_issue(purpose=purpose, obj=obj)


AGED = "aged"  # in a body: _sign puts an aged token of the petition signed there in its place


def _body(n: int | str, **extra: str) -> dict[str, str]:
    return {
        "name": "Мария Иванова",
        "email": f"signer{n}@example.org",
        "country": "LV",
        "display": "anonymous",
        "nojs": AGED,
        **extra,
    }


def _sign(client: Client, live: LiveCampaign, body: dict[str, str], **extra: str):
    if body.get("nojs") == AGED:
        body = {**body, "nojs": aged_nojs_token(obj=live.petition.slug)}
    return client.post(live.petition.get_absolute_url(), body, **extra)


@pytest.fixture
def onion(settings: LazySettings) -> None:
    settings.ONION_HOST = ONION
    settings.ONION_PORT = 8001
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, ONION]


# --- 100 people through one address ----------------------------------------------------------


def test_a_hundred_signers_without_javascript_through_one_tor_exit_are_all_accepted(
    client: Client, live: LiveCampaign
) -> None:
    codes = [_sign(client, live, _body(n), REMOTE_ADDR=SHARED_EXIT).status_code for n in range(100)]
    assert codes == [302] * 100
    assert Signature.objects.filter(petition=live.petition).count() == 100


def test_a_hundred_signers_through_the_onion_service_are_all_accepted(
    client: Client,
    live: LiveCampaign,
    onion: None,
    pow_solution,  # noqa: F811
    settings: LazySettings,
) -> None:
    # Even with a tiny per-address ceiling: under the onion host it is not applied at all.
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "sign_ip": "5/h"}
    codes = []
    for n in range(100):
        body = _body(n)
        if n % 2:  # half of them with JavaScript (Tor Browser's "Standard" level)
            body["altcha"] = pow_solution()
        codes.append(_sign(client, live, body, REMOTE_ADDR="127.0.0.1", **VIA_ONION).status_code)
    assert codes == [302] * 100
    assert Signature.objects.filter(petition=live.petition).count() == 100


def test_a_forged_forwarded_for_header_through_the_onion_is_ignored(
    onion: None, settings: LazySettings
) -> None:
    settings.TRUSTED_PROXY_COUNT = 1
    factory = RequestFactory()
    one = factory.get("/", **VIA_ONION, HTTP_X_FORWARDED_FOR="10.1.1.1")
    two = factory.get("/", **VIA_ONION, HTTP_X_FORWARDED_FOR="10.2.2.2")
    assert ratelimit.client_network(one) == ratelimit.client_network(two) == "onion"
    clearnet = factory.get("/", HTTP_X_FORWARDED_FOR="10.1.1.1")
    assert ratelimit.client_network(clearnet) == "10.1.1.1"


def test_a_clearnet_bot_naming_the_onion_host_gets_no_onion_treatment(
    client: Client, live: LiveCampaign, onion: None, settings: LazySettings
) -> None:
    """The Host header is the client's to write: only the onion port (which only the tor
    daemon reaches) makes a request an onion one, and the onion's name elsewhere is refused."""
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "sign_ip": "2/h"}
    forged = RequestFactory().get("/", HTTP_HOST=ONION, REMOTE_ADDR="198.51.100.7")
    assert not ratelimit.is_onion_request(forged)
    assert ratelimit.client_network(forged) == "198.51.100.7"
    body = {"name": "Bot", "email": "bot@example.org", "country": "DE"}
    response = _sign(client, live, body, REMOTE_ADDR="198.51.100.7", HTTP_HOST=ONION)
    assert response.status_code == 400
    assert Signature.objects.count() == 0


# --- one flooding source is still stopped ----------------------------------------------------


def test_one_mailbox_flooding_gets_no_more_than_its_daily_mails(
    client: Client, live: LiveCampaign, settings: LazySettings
) -> None:
    petitions = open_petitions(live, 4)
    spellings = ["victim@gmail.com", "Vic.Tim@gmail.com", "victim+x@googlemail.com"]
    for round_ in range(5):
        for petition in petitions:
            for spelling in spellings:
                token = aged_nojs_token(obj=petition.slug)
                body = {**_body(round_), "email": spelling, "nojs": token}
                response = client.post(petition.get_absolute_url(), body, REMOTE_ADDR=SHARED_EXIT)
                assert response.status_code == 302  # looks the same: nobody learns who signed
    digest = email_digest("victim@gmail.com")
    mails = Email.objects.filter(recipient_digest=digest).count()
    assert 1 <= mails <= min(len(petitions), settings.SIGNATURE_MAILS_PER_MAILBOX)
    assert Signature.objects.filter(email_digest=digest).count() == len(petitions)


def test_one_domain_flooding_without_proof_of_work_is_refused_and_others_still_sign(
    client: Client, live: LiveCampaign, settings: LazySettings
) -> None:
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "sign_domain_unverified": "10/h"}
    codes = [
        _sign(client, live, _body(n, email=f"bot{n}@flood.example"), REMOTE_ADDR=f"10.3.0.{n}")
        for n in range(15)
    ]
    assert [c.status_code for c in codes] == [302] * 10 + [429] * 5
    honest = _sign(client, live, _body("h", email="honest@example.net"), REMOTE_ADDR=SHARED_EXIT)
    assert honest.status_code == 302
    assert Signature.objects.count() == 11


def test_a_flood_without_proof_of_work_spends_the_shared_budget_with_a_clear_message(
    client: Client,
    live: LiveCampaign,
    settings: LazySettings,
    pow_solution,  # noqa: F811
) -> None:
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "sign_nojs": "20/h"}
    for n in range(20):
        assert _sign(client, live, _body(n), REMOTE_ADDR=f"10.4.{n}.1").status_code == 302
    refused = _sign(client, live, _body("late"), REMOTE_ADDR="10.5.0.1")
    assert refused.status_code == 429 and int(refused["Retry-After"]) > 0
    page = refused.content.decode()
    assert "Too many forms sent without JavaScript right now" in page
    assert "switch JavaScript on for this site" in page
    # A signer whose browser did the proof of work is not held back by it.
    solved = _sign(client, live, {**_body("js"), "altcha": pow_solution()}, REMOTE_ADDR="10.5.0.2")
    assert solved.status_code == 302
    assert Signature.objects.count() == 21


def test_the_clear_message_is_in_russian_too(
    client: Client, live: LiveCampaign, settings: LazySettings
) -> None:
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "sign_nojs": "1/h"}
    _sign(client, live, _body(1))
    body = {**_body(2), "nojs": aged_nojs_token(obj=live.petition.slug)}
    refused = client.post(live.petition.get_absolute_url() + "?lang=ru", body)
    assert refused.status_code == 429
    assert "без JavaScript" in refused.content.decode()


def test_a_flood_through_one_clearnet_address_still_meets_the_address_ceiling(
    client: Client, live: LiveCampaign, settings: LazySettings
) -> None:
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "sign_ip": "3/h"}
    codes = [_sign(client, live, _body(n), REMOTE_ADDR="10.6.0.1").status_code for n in range(5)]
    assert codes == [302, 302, 302, 429, 429]


# --- the aged form token ----------------------------------------------------------------------


def test_a_post_without_the_token_is_refused_with_a_fresh_one_to_retry(
    client: Client, live: LiveCampaign
) -> None:
    body = _body(1)
    del body["nojs"]
    response = _sign(client, live, body)
    assert response.status_code == 400
    page = response.content.decode()
    assert "Please check it and send it again" in page
    assert 'name="nojs"' in page  # the form comes back with a new token
    assert not Signature.objects.exists()


def test_a_post_sooner_than_a_person_could_type_is_refused(
    client: Client, live: LiveCampaign
) -> None:
    page = client.get(live.petition.get_absolute_url()).content.decode()
    token = page.split('name="nojs" value="', 1)[1].split('"', 1)[0]
    response = _sign(client, live, {**_body(1), "nojs": token})
    assert response.status_code == 400
    assert "quicker than anyone can fill in this form" in response.content.decode()
    assert not Signature.objects.exists()


def test_a_token_is_spent_once(client: Client, live: LiveCampaign) -> None:
    token = aged_nojs_token(obj=live.petition.slug)
    assert _sign(client, live, {**_body(1), "nojs": token}).status_code == 302
    again = _sign(client, live, {**_body(2), "nojs": token})
    assert again.status_code == 400
    assert "already sent once" in again.content.decode()
    assert Signature.objects.count() == 1


@pytest.mark.parametrize(
    "token",
    [
        pytest.param(lambda slug: aged_nojs_token(age=5 * 3600, obj=slug), id="too-old"),
        pytest.param(
            lambda slug: aged_nojs_token(purpose="case_report", obj=slug), id="other-form"
        ),
        # Harvested from another petition's page (or an unbound one): good for that alone.
        pytest.param(lambda slug: aged_nojs_token(obj="another-petition"), id="other-petition"),
        pytest.param(lambda slug: aged_nojs_token(), id="no-petition"),
        pytest.param(lambda slug: aged_nojs_token(obj=slug)[:-3] + "abc", id="altered"),
        pytest.param(lambda slug: "x" * 5000, id="huge"),
    ],
)
def test_an_expired_foreign_or_altered_token_is_refused(client: Client, live: LiveCampaign, token):
    response = _sign(client, live, {**_body(1), "nojs": token(live.petition.slug)})
    assert response.status_code == 400
    assert not Signature.objects.exists()


def test_the_token_is_rendered_fresh_even_when_the_cached_fields_are_reused(
    client: Client, live: LiveCampaign
) -> None:
    def token() -> str:
        page = client.get(live.petition.get_absolute_url()).content.decode()
        return page.split('name="nojs" value="', 1)[1].split('"', 1)[0]

    first, second = token(), token()  # the second from the whole-page cache
    assert first != second
    for issued in (first, second):  # bound to this petition, whichever way the page came
        assert signing.loads(issued, salt=nojs._SALT)["o"] == live.petition.slug


def test_draining_one_petition_s_budget_leaves_the_others_theirs(settings: LazySettings) -> None:
    """Posts without JavaScript spend their petition's own budget first: a flood aimed at one
    petition stops there and takes at most that much of the budget every petition shares."""
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "sign_nojs_petition": "3/h", "sign_nojs": "5/h"}
    request = RequestFactory().post("/")

    def post(n: int, slug: str) -> None:
        sign_limits(request, email=f"x{n}@d{n}.example", pow_verified=False, petition_slug=slug)

    for n in range(3):
        post(n, "flooded")
    for n in range(3, 20):
        with pytest.raises(ratelimit.RateLimited):
            post(n, "flooded")
    post(20, "other")
    post(21, "other")  # the shared budget: 5, of which the flood took 3
    with pytest.raises(ratelimit.RateLimited):
        post(22, "third")


# --- daily keys --------------------------------------------------------------------------------


def test_limit_hashes_change_every_day_and_cannot_be_recomputed_once_the_salt_is_gone() -> None:
    day = date(2026, 11, 30)
    with mock.patch.object(ratelimit, "today", return_value=day):
        first = ratelimit.limit_hash("ip:10.0.0.1", day=day)
        assert first == ratelimit.limit_hash("ip:10.0.0.1", day=day)
        assert first != ratelimit.limit_hash("ip:10.0.0.1", day=day + timedelta(days=1))
        assert "10.0.0.1" not in first
    # Two days on, the cache's salt expires; the process has dropped that day's key as well.
    with mock.patch.object(ratelimit, "today", return_value=day + timedelta(days=2)):
        ratelimit.limit_hash("ip:10.0.0.1")
        cache.delete(ratelimit._DAY_SALT_KEY + day.isoformat())  # what expiry does
        assert ratelimit.limit_hash("ip:10.0.0.1", day=day) != first


def test_a_process_reads_the_days_salt_once_a_minute_not_per_hash() -> None:
    """The sign POST hashes two or three values; each read the salt (two cache round trips).
    A salt the cache lost (a flush) is replaced in every process within a minute."""
    day = date(2026, 11, 30)
    with (
        mock.patch.object(ratelimit, "today", return_value=day),
        mock.patch.object(ratelimit.time, "monotonic", return_value=1000.0) as clock,
        mock.patch.object(ratelimit, "cache", wraps=cache) as counted,
    ):
        first = ratelimit.limit_hash("ip:10.0.0.1")
        reads = counted.get.call_count
        assert reads >= 1
        assert ratelimit.limit_hash("ip:10.0.0.2") != first
        assert ratelimit.limit_hash("ip:10.0.0.1") == first
        assert counted.get.call_count == reads  # from the process's copy
        cache.delete(ratelimit._DAY_SALT_KEY + day.isoformat())  # a flush
        clock.return_value = 1000.0 + 59
        assert ratelimit.limit_hash("ip:10.0.0.1") == first
        clock.return_value = 1000.0 + 61
        assert ratelimit.limit_hash("ip:10.0.0.1") != first  # a new salt, read again
        assert counted.get.call_count > reads


def _at(moment: int, day: date) -> contextlib.ExitStack:
    stack = contextlib.ExitStack()
    stack.enter_context(mock.patch.object(ratelimit.time, "time", return_value=moment))
    stack.enter_context(mock.patch("django_ratelimit.core.time.time", return_value=moment))
    stack.enter_context(mock.patch.object(ratelimit, "today", return_value=day))
    return stack


MIDNIGHT = 1764547200  # 2025-12-01 00:00 UTC


def test_a_limit_spanning_midnight_still_counts_what_came_before(settings: LazySettings) -> None:
    """Every client, whatever offset django-ratelimit gives its key's windows: with a 5-minute
    period four windows in five start between the two moments below, so reading yesterday's
    windowed count (as the first version did) let most of these clients through."""
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "signer_link": "3/5m"}
    clients = [RequestFactory().post("/", REMOTE_ADDR=f"10.7.0.{n}") for n in range(1, 13)]
    with _at(MIDNIGHT - 120, date(2025, 11, 30)):
        for request in clients:
            for _ in range(3):
                ratelimit.limit(request, scope="signer_link")
    with _at(MIDNIGHT + 120, date(2025, 12, 1)):
        for request in clients:
            with pytest.raises(ratelimit.RateLimited):
                ratelimit.limit(request, scope="signer_link")
        # Another address starts the new day with its full budget.
        other = RequestFactory().post("/", REMOTE_ADDR="10.7.1.1")
        for _ in range(3):
            ratelimit.limit(other, scope="signer_link")


def test_what_was_spent_before_the_last_period_of_the_day_is_not_carried_over(
    settings: LazySettings,
) -> None:
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "signer_link": "3/5m"}
    request = RequestFactory().post("/", REMOTE_ADDR="10.7.2.1")
    with _at(MIDNIGHT - 1000, date(2025, 11, 30)):
        for _ in range(3):
            ratelimit.limit(request, scope="signer_link")
    with _at(MIDNIGHT - 200, date(2025, 11, 30)):
        ratelimit.limit(request, scope="signer_link")  # the one post of the last five minutes
    with _at(MIDNIGHT + 100, date(2025, 12, 1)):
        ratelimit.limit(request, scope="signer_link")
        ratelimit.limit(request, scope="signer_link")
        with pytest.raises(ratelimit.RateLimited):  # 1 in the evening + 2 today + this one
            ratelimit.limit(request, scope="signer_link")
    # Past the first period of the day, the evening no longer counts.
    late = RequestFactory().post("/", REMOTE_ADDR="10.7.2.2")
    with _at(MIDNIGHT - 100, date(2025, 11, 30)):
        for _ in range(3):
            ratelimit.limit(late, scope="signer_link")
    with _at(MIDNIGHT + 301, date(2025, 12, 1)):
        for _ in range(3):
            ratelimit.limit(late, scope="signer_link")


def test_a_daily_limit_carries_only_the_last_hour_of_the_day_before(settings: LazySettings) -> None:
    """A daily limit's "last period" would be the whole day: a flood of a shared key in the
    morning must not lock everyone out for the whole of the next day too."""
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "signer_link": "3/d"}
    morning = RequestFactory().post("/", REMOTE_ADDR="10.7.3.1")
    with _at(MIDNIGHT - 13 * 3600, date(2025, 11, 30)):
        for _ in range(3):
            ratelimit.limit(morning, scope="signer_link")
    with _at(MIDNIGHT + 600, date(2025, 12, 1)):
        ratelimit.limit(morning, scope="signer_link")
    late = RequestFactory().post("/", REMOTE_ADDR="10.7.3.2")
    with _at(MIDNIGHT - 1800, date(2025, 11, 30)):
        for _ in range(3):
            ratelimit.limit(late, scope="signer_link")
    with _at(MIDNIGHT + 600, date(2025, 12, 1)), pytest.raises(ratelimit.RateLimited):
        ratelimit.limit(late, scope="signer_link")


def test_a_hundred_signers_confirm_through_the_onion_service(
    client: Client, live: LiveCampaign, onion: None, settings: LazySettings
) -> None:
    """Signer links are limited per link under the onion host, not per (shared) address."""
    from campaigns import services
    from campaigns.signing import token_make

    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "signer_link": "3/h"}
    tokens = []
    for n in range(100):
        signature = services.signature_create(
            petition=live.petition, name="Анна", email=f"confirm{n}@example.org", country="DE"
        )
        assert signature is not None
        tokens.append(token_make(signature.pk, "confirm"))
    for token in tokens:
        url = reverse("campaigns:confirm", args=[token])
        response = client.post(url, REMOTE_ADDR="127.0.0.1", **VIA_ONION)
        assert response.status_code == 302
    confirmed = Signature.objects.filter(status=Signature.Status.CONFIRMED).count()
    assert confirmed == 100
    # One link hammered still meets its budget.
    url = reverse("campaigns:confirm", args=[tokens[0]])
    codes = [client.post(url, **VIA_ONION).status_code for _ in range(4)]
    assert 429 in codes


def test_api_posts_without_proof_of_work_spend_the_petition_s_budget_too(
    client: Client, live: LiveCampaign, settings: LazySettings
) -> None:
    """The API asks no form token, so it must not be the cheap way round the per-petition
    budget: its posts without a proof of work spend it like the page's."""
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "sign_nojs_petition": "2/h"}
    url = reverse("api:signatures", args=[live.petition.slug])

    def post(n: int) -> int:
        body = {
            "name": "Bot",
            "email": f"api{n}@d{n}.example",
            "country": "DE",
            "display": "anonymous",
        }
        return client.post(url, body, content_type="application/json").status_code

    assert [post(n) for n in range(3)] == [202, 202, 429]


def test_with_limits_off_nothing_is_counted_not_even_across_midnight(
    settings: LazySettings,
) -> None:
    """COALITION_RATELIMIT_ENABLE=0 (the benchmarks): no cache call at all, in the last hour of
    the day too, where the counter across midnight would otherwise be written."""
    settings.RATELIMIT_ENABLE = False
    day = date(2026, 11, 30)
    evening = int(datetime(2026, 11, 30, 23, 59, tzinfo=UTC).timestamp())
    request = RequestFactory().post("/petitions/x/", REMOTE_ADDR="10.0.0.9")
    with _at(evening, day), mock.patch.object(ratelimit, "cache", wraps=cache) as counted:
        for _ in range(50):
            ratelimit.limit(request, scope="sign_ip")
    assert not counted.method_calls
