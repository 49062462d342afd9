"""A service's refusal reaches API clients with the status of its kind (foundation/errors.py),
in both APIs: not every refusal is "not found"."""

from __future__ import annotations

import pytest
from django.test import Client

from api import problems
from campaigns import services
from foundation import errors
from members.services import MembershipError
from outbox.models import Email
from tests.api.test_osdi import World, helper_url, person_body, post
from tests.api.test_osdi import world as world
from tests.api.test_signatures import GOOD, PROBLEM, _post_json

pytestmark = pytest.mark.django_db

REFUSALS = [
    (services.CampaignConflict("This petition is closed."), 409, "Conflict"),
    (services.CampaignForbidden("Only the campaign's co-sponsors can do this."), 403, "Forbidden"),
    (services.CampaignNotFound("This signature no longer exists."), 404, "Not Found"),
    (services.CampaignError("Choose what happened."), 400, "Invalid input"),
]


@pytest.mark.parametrize(("error", "status", "title"), REFUSALS)
def test_each_kind_of_domain_error_has_its_status(error, status, title):
    assert problems.domain_status(error) == (status, title)
    problem = problems.from_domain_error(error).response()
    assert problem.status_code == status
    assert problem["Content-Type"] == PROBLEM


def test_every_apps_error_is_a_domain_error():
    from agenda.services import AgendaError
    from api.services import TokenError
    from campaigns.joint import JointActError
    from evidence.services import EvidenceError
    from outreach.services import OutreachError
    from updates.services import UpdateError
    from webhooks.services import WebhookError

    for error in (
        services.CampaignError,
        MembershipError,
        OutreachError,
        UpdateError,
        WebhookError,
        EvidenceError,
        AgendaError,
        JointActError,
        TokenError,
    ):
        assert issubclass(error, errors.DomainError), error


def _refusing(error):
    def refuse(**_kwargs):
        raise error

    return refuse


@pytest.mark.parametrize(("error", "status", "title"), REFUSALS)
def test_the_sign_api_answers_a_refusal_by_its_kind(
    client, live, pow_solution, monkeypatch, error, status, title
):
    # The service refuses after the view found the petition open (it closed meanwhile, say).
    monkeypatch.setattr(services, "signature_create", _refusing(error))
    response = _post_json(client, live.petition, {**GOOD, "altcha": pow_solution()})
    assert response.status_code == status
    assert response["Content-Type"] == PROBLEM
    assert response.json()["title"] == title
    assert response.json()["detail"] == str(error)
    assert not Email.objects.filter(kind="campaigns.confirm").exists()


@pytest.mark.parametrize(("error", "status", "title"), REFUSALS)
def test_the_osdi_api_answers_a_refusal_by_its_kind(
    world: World, client: Client, monkeypatch, error, status, title
) -> None:
    monkeypatch.setattr(services, "signature_create", _refusing(error))
    response = post(client, helper_url(world.live.petition), world.write, person_body())
    assert response.status_code == status
    assert response.json()["osdi:status"]["code"] == status
