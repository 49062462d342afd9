"""Proof of work on the sign form: campaigns/pow.py, its endpoint, SignatureForm.altcha."""

from __future__ import annotations

import base64
import json
import re
import time
from datetime import timedelta
from html import unescape

import altcha
import pytest
from django.urls import reverse

from campaigns import pow
from campaigns.forms import SignatureForm

pytestmark = pytest.mark.django_db

GOOD = {
    "name": "Мария Иванова",
    "email": "maria@example.org",
    "country": "LV",
    "city": "Riga",
    "display": "initial",
}
FAILED = "The anti-bot check failed, please try again."


def _decode(payload: str) -> dict:
    return json.loads(base64.b64decode(payload))


def _encode(data: dict) -> str:
    return base64.b64encode(json.dumps(data).encode()).decode()


# --- solution_verify ----------------------------------------------------------------------------


def test_solved_challenge_verifies(pow_solution):
    assert pow.solution_verify(pow_solution()) is True


def test_challenge_costs_between_half_and_all_of_max_number(settings):
    settings.ALTCHA_MAX_NUMBER = 400
    counters = set()
    for _ in range(5):
        solution = altcha.solve_challenge(pow.challenge_create(), timeout=10)
        assert solution is not None
        counters.add(solution.counter)
    assert all(200 <= counter < 400 for counter in counters)
    assert len(counters) > 1  # random, not one fixed amount of work


def test_challenge_expires_in_twenty_minutes():
    expires_at = pow.challenge_create().parameters.expires_at
    assert expires_at is not None
    assert 20 * 60 - 5 <= expires_at - time.time() <= 20 * 60


@pytest.mark.parametrize(
    "tamper",
    [
        # an easier challenge than the one we signed
        lambda p: p["challenge"]["parameters"].update(keyPrefix="00"),
        lambda p: p["challenge"]["parameters"].update(expiresAt=int(time.time()) + 86_400),
        lambda p: p["challenge"].update(signature="0" * 64),
        lambda p: p["challenge"].pop("signature"),
        # a solution that is not the solution
        lambda p: p["solution"].update(counter=p["solution"]["counter"] + 1),
        lambda p: p["solution"].update(derivedKey="ab" * 32),
    ],
    ids=["key-prefix", "expiry", "signature", "no-signature", "counter", "derived-key"],
)
def test_tampered_payload_is_rejected(pow_solution, tamper):
    data = _decode(pow_solution())
    tamper(data)
    assert pow.solution_verify(_encode(data)) is False


def test_solution_to_a_challenge_signed_with_another_key_is_rejected(settings, pow_solution):
    settings.ALTCHA_HMAC_KEY = "someone-else's-key"
    payload = pow_solution()
    settings.ALTCHA_HMAC_KEY = "our-key"
    assert pow.solution_verify(payload) is False


@pytest.mark.parametrize(
    "payload",
    ["garbage", "e30=", _encode({"challenge": [], "solution": 1}), "[]" * 5_000, "\u2603"],
    ids=["not-base64-json", "empty-object", "wrong-shapes", "too-long", "not-ascii"],
)
def test_garbage_is_rejected_without_an_exception(payload):
    assert pow.solution_verify(payload) is False


def test_expired_solution_is_rejected(monkeypatch, pow_solution):
    monkeypatch.setattr(pow, "EXPIRES_AFTER", timedelta(seconds=-1))
    payload = pow_solution()
    assert _decode(payload)["challenge"]["parameters"]["expiresAt"] < time.time()
    assert pow.solution_verify(payload) is False


def test_replayed_solution_is_rejected_the_second_time(pow_solution):
    payload = pow_solution()
    assert pow.solution_verify(payload) is True
    assert pow.solution_verify(payload) is False
    assert pow.solution_verify(pow_solution()) is True  # a new solve is fine


def test_used_challenges_are_remembered_until_they_expire(monkeypatch, pow_solution):
    remembered = {}

    class Cache:
        def add(self, key, value, timeout):
            remembered[key] = timeout
            return True

    monkeypatch.setattr(pow, "cache", Cache())
    payload = pow_solution()
    assert pow.solution_verify(payload) is True
    challenge = _decode(payload)["challenge"]
    timeout = remembered["pow:used:" + challenge["signature"]]
    # Not a second less (a replay just before expiry), and no longer: verify_solution refuses
    # expired payloads by itself.
    assert 0 < time.time() + timeout - challenge["parameters"]["expiresAt"] <= 2


def test_cache_outage_accepts_solutions_rather_than_failing_every_signer(monkeypatch, pow_solution):
    class Cache:
        def add(self, *args, **kwargs):
            raise ConnectionError("cache is down")

    monkeypatch.setattr(pow, "cache", Cache())
    assert pow.solution_verify(pow_solution()) is True


# --- the endpoint the widget fetches ------------------------------------------------------------


def test_challenge_endpoint_serves_fresh_uncached_json_the_widget_can_solve(client, settings):
    settings.ALTCHA_MAX_NUMBER = 1_000
    url = reverse("campaigns:pow_challenge")
    assert url == "/petitions/pow-challenge/"
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert "no-store" in response["Cache-Control"]
    data = response.json()
    # What widget v3 checks before solving (isChallengeValid) and needs to solve and expire.
    assert set(data) == {"parameters", "signature"}
    parameters = data["parameters"]
    assert {"algorithm", "nonce", "salt", "keyPrefix", "cost", "keyLength", "expiresAt"} <= set(
        parameters
    )
    assert parameters["algorithm"] == "SHA-256"  # the worker static/js/altcha.js registers
    assert client.get(url).json()["parameters"]["nonce"] != parameters["nonce"]

    challenge = altcha.Challenge.from_dict(data)
    solution = altcha.solve_challenge(challenge, timeout=10)
    assert solution is not None
    assert pow.solution_verify(altcha.Payload(challenge, solution).to_base64()) is True


def test_challenge_endpoint_refuses_post(client):
    assert client.post(reverse("campaigns:pow_challenge")).status_code == 405


# --- SignatureForm ------------------------------------------------------------------------------


def test_form_without_a_solution_is_valid_but_not_pow_verified():
    form = SignatureForm(GOOD)
    assert form.is_valid(), form.errors
    assert form.pow_verified is False


def test_form_with_a_solution_is_pow_verified(pow_solution):
    form = SignatureForm({**GOOD, "altcha": pow_solution()})
    assert form.is_valid(), form.errors
    assert form.pow_verified is True


@pytest.mark.parametrize("payload", ["garbage", "e30="])
def test_form_with_a_bad_solution_has_a_field_error(payload):
    form = SignatureForm({**GOOD, "altcha": payload})
    assert not form.is_valid()
    assert form.errors["altcha"] == [FAILED]
    assert form.pow_verified is False


def test_form_with_a_replayed_solution_has_a_field_error(pow_solution):
    payload = pow_solution()
    assert SignatureForm({**GOOD, "altcha": payload}).is_valid()
    form = SignatureForm({**GOOD, "altcha": payload})
    assert not form.is_valid()
    assert form.errors["altcha"] == [FAILED]
    assert form.pow_verified is False


# --- the page ------------------------------------------------------------------------------------


_WIDGET = re.compile(
    r'<altcha-widget challenge="([^"]+)" '
    r'data-challenge-url="/petitions/pow-challenge/" name="altcha"'
)


@pytest.mark.parametrize("page", ["campaigns:petition", "campaigns:embed"])
def test_sign_form_carries_the_widget_and_a_fresh_challenge_it_can_solve(
    client, live, page, settings
):
    settings.ALTCHA_MAX_NUMBER = 1_000
    url = reverse(page, args=[live.petition.slug])
    html = client.get(url).content.decode()
    found = _WIDGET.search(html)
    assert found is not None
    data = json.loads(unescape(found.group(1)))
    assert set(data) == {"parameters", "signature"}
    challenge = altcha.Challenge.from_dict(data)
    solution = altcha.solve_challenge(challenge, timeout=10)
    assert solution is not None
    assert pow.solution_verify(altcha.Payload(challenge, solution).to_base64()) is True
    # Every view gets its own challenge, even though the rest of the form is cached.
    again = json.loads(unescape(_WIDGET.search(client.get(url).content.decode()).group(1)))
    assert again["parameters"]["nonce"] != data["parameters"]["nonce"]
    assert '<script type="module" src="/static/js/altcha.js"></script>' in html
    assert '<link rel="stylesheet" href="/static/vendor/altcha/altcha.css">' in html


def test_bad_solution_is_shown_next_to_the_widget_and_nothing_is_signed(client, live):
    response = client.post(
        reverse("campaigns:petition", args=[live.petition.slug]), {**GOOD, "altcha": "garbage"}
    )
    assert response.status_code == 400
    assert FAILED in response.content.decode()
    assert not live.petition.signatures.exists()
