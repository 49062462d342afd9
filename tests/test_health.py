"""/healthz: cheap enough to be polled by anyone, and telling nothing about the deployment."""

from __future__ import annotations

import time
from unittest import mock

import pytest
from django.core.cache import cache
from django.db import OperationalError

from coalition import health
from coalition.celery import app
from coalition.tasks import worker_heartbeat

pytestmark = pytest.mark.django_db


@pytest.fixture
def with_workers(settings):
    """As in production: tasks go to separate worker processes, not run in-process."""
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.HEALTH_HEARTBEAT_MAX_AGE_SECONDS = 180
    cache.delete(health.HEARTBEAT_KEY)


@pytest.fixture
def celery_control_forbidden():
    """Any call into Celery's remote control (ping, inspect) fails the test: each one waited up
    to a second for worker replies inside the request, and a few polls a second took the site
    down."""
    forbidden = mock.Mock(side_effect=AssertionError("healthz must not ask the workers"))
    with (
        mock.patch.object(app.control, "inspect", forbidden),
        mock.patch.object(app.control, "ping", forbidden),
        mock.patch.object(app.control, "broadcast", forbidden),
    ):
        yield forbidden


def test_healthz_answers_from_the_heartbeat_without_asking_the_workers(
    client, with_workers, celery_control_forbidden, django_assert_max_num_queries
):
    worker_heartbeat()  # what beat has a worker run every 30 s
    with django_assert_max_num_queries(1):  # SELECT 1, and one cache read: nothing that waits
        response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert celery_control_forbidden.call_count == 0


def test_healthz_is_degraded_when_the_heartbeat_is_stale(
    client, settings, with_workers, celery_control_forbidden
):
    cache.set(health.HEARTBEAT_KEY, time.time() - settings.HEALTH_HEARTBEAT_MAX_AGE_SECONDS - 5)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"status": "degraded"}
    assert celery_control_forbidden.call_count == 0


def test_healthz_is_degraded_when_no_worker_ever_reported(
    client, with_workers, celery_control_forbidden
):
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"status": "degraded"}


def test_healthz_is_degraded_when_the_database_is_down(client, with_workers):
    worker_heartbeat()
    with mock.patch.object(health.connection, "cursor", side_effect=OperationalError("down")):
        response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"status": "degraded"}


def test_healthz_names_no_component_version_vendor_or_worker_count(client):
    response = client.get("/healthz")
    assert response.json() == {"status": "ok"}
    text = response.content.decode().lower()
    for leak in ("postgres", "sqlite", "redis", "celery", "worker", "version", "vendor"):
        assert leak not in text
    assert "no-cache" in response["Cache-Control"]


def test_beat_sends_the_heartbeat_more_often_than_it_goes_stale(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["worker-heartbeat"]
    assert entry["task"] == worker_heartbeat.name
    assert entry["schedule"] * 3 <= settings.HEALTH_HEARTBEAT_MAX_AGE_SECONDS
