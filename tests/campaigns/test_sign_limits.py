"""Issue 10, item 5: sign limits that a flood cannot turn against honest signers."""

from __future__ import annotations

import pytest
from django.test import RequestFactory

from campaigns.models import Signature
from campaigns.signing import email_digest
from foundation.ratelimit import client_network
from tests.campaigns.signing_helpers import BODY, api

pytestmark = pytest.mark.django_db


# --- item 5: limits that cannot be turned against honest signers ------------------------------


def test_a_flood_without_proof_of_work_does_not_lock_out_honest_signers_of_the_domain(
    client, live, pow_solution, settings
):
    settings.RATE_LIMITS = {
        **settings.RATE_LIMITS,
        "sign_domain": "20/h",
        "sign_domain_unverified": "15/h",
    }
    codes = [
        api(
            client, live.petition, {**BODY, "email": f"bot{ip}x{n}@gmail.com"}, ip=f"10.7.0.{ip}"
        ).status_code
        for ip in range(10)
        for n in range(3)
    ]
    honest = {**BODY, "email": "honest.signer@gmail.com", "altcha": pow_solution()}
    # A signer whose browser did the proof of work is not held back by the flood ...
    assert api(client, live.petition, honest, ip="10.8.0.1").status_code == 202
    # ... which was held back by its own budget
    assert codes.count(202) == 15 and codes.count(429) == 15
    assert Signature.objects.filter(email_digest=email_digest("honest.signer@gmail.com")).exists()


def test_a_flood_with_proof_of_work_is_still_limited_per_domain(
    client, live, pow_solution, settings
):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "sign_domain": "3/h"}
    for n in range(3):
        body = {**BODY, "email": f"solver{n}@bulk.example", "altcha": pow_solution()}
        assert api(client, live.petition, body, ip=f"10.9.0.{n}").status_code == 202
    body = {**BODY, "email": "solver9@bulk.example", "altcha": pow_solution()}
    response = api(client, live.petition, body, ip="10.9.0.9")
    assert response.status_code == 429 and int(response["Retry-After"]) > 0
    assert Signature.objects.count() == 3


def test_ipv6_addresses_in_one_slash_64_share_a_budget(client, live, pow_solution, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "sign_ip": "2/h"}

    def post(n, ip):
        body = {**BODY, "email": f"v6-{n}@example.org", "altcha": pow_solution()}
        return api(client, live.petition, body, ip=ip).status_code

    assert post(1, "2001:db8:1:2::1") == 202
    assert post(2, "2001:db8:1:2:ffff:ffff:ffff:fffe") == 202
    assert post(3, "2001:db8:1:2:abcd::9") == 429  # same /64, another address
    assert post(4, "2001:db8:1:3::1") == 202  # the next /64 is someone else
    assert Signature.objects.count() == 3


def test_client_network_keys():
    factory = RequestFactory()
    assert client_network(factory.get("/", REMOTE_ADDR="2001:db8::1")) == "2001:db8::/64"
    assert client_network(factory.get("/", REMOTE_ADDR="::ffff:10.0.0.1")) == "10.0.0.1"
    assert client_network(factory.get("/", REMOTE_ADDR="10.0.0.1")) == "10.0.0.1"
