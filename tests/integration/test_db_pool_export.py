"""The supporter export behind a connection pool and in PgBouncer mode (docs/deploy.md).

Django's built-in pool (COALITION_DB_POOL) hands a request a pooled connection; PgBouncer in
transaction pooling (COALITION_DB_PGBOUNCER) gives each transaction whatever server connection is
free, so a named server-side cursor, which Django's ``.iterator()`` uses on PostgreSQL, could
outlive its transaction on a connection someone else now has: off in that mode. Either way the
export must still hold every consenting supporter, and only them.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from django.db import connection
from django.urls import reverse

from campaigns import services
from tests.campaigns.conftest import issue_area_make, live_campaign_make
from tests.campaigns.signing_helpers import supporter_confirmed

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def named_cursors(monkeypatch: pytest.MonkeyPatch) -> list[str | None]:
    """The name of every cursor the connection opens (None: a client-side cursor)."""
    names: list[str | None] = []
    original = connection.create_cursor

    def create_cursor(name: str | None = None) -> Any:
        names.append(name)
        return original(name)

    monkeypatch.setattr(connection, "create_cursor", create_cursor)
    return names


@pytest.fixture
def pooled() -> Iterator[None]:
    """This test's connection taken from Django's pool, as COALITION_DB_POOL=1 configures it."""
    if connection.vendor != "postgresql":
        pytest.skip("the pool is PostgreSQL's")
    saved = {key: connection.settings_dict[key] for key in ("CONN_MAX_AGE", "OPTIONS")}
    connection.close()
    connection.settings_dict["CONN_MAX_AGE"] = 0
    connection.settings_dict["OPTIONS"] = {
        **saved["OPTIONS"],
        "pool": {"min_size": 1, "max_size": 2, "timeout": 10},
    }
    try:
        yield
        assert connection.pool is not None  # the export ran on a pooled connection
    finally:
        connection.close()
        connection.close_pool()
        connection.settings_dict.update(saved)


def _export(client: Any, *, supporters: int) -> list[list[str]]:
    live = live_campaign_make(issue_area_make())
    for n in range(supporters):
        supporter_confirmed(
            live.petition,
            name=f"Supporter {n}",
            email=f"supporter{n}@example.org",
            consents=[live.orgs[0]],
        )
    services.signature_create(  # consented to the other co-sponsor only
        petition=live.petition,
        name="Other",
        email="other@example.org",
        country="DE",
        consents=[live.orgs[1]],
    )
    client.force_login(live.admins[0])
    url = reverse("campaigns:export", kwargs={"org": live.orgs[0].slug, "slug": live.campaign.slug})
    response = client.get(url)
    assert response.status_code == 200
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))


def test_the_export_in_pgbouncer_mode_opens_no_server_side_cursor_and_keeps_every_row(
    client, pooled, named_cursors, monkeypatch
):
    monkeypatch.setitem(connection.settings_dict, "DISABLE_SERVER_SIDE_CURSORS", True)
    rows = _export(client, supporters=25)
    assert [row[1] for row in rows[1:]] == [f"supporter{n}@example.org" for n in range(25)]
    assert [name for name in named_cursors if name] == []


def test_without_pgbouncer_mode_the_export_streams_with_copy_not_a_server_side_cursor(
    client, pooled, named_cursors, monkeypatch
):
    """The export streams with ``COPY ... TO STDOUT`` inside its transaction (issue 11: a
    million rows at 100,000 rows/s): no server-side cursor in either mode, so PgBouncer's
    transaction pooling has nothing to break."""
    copies: list[str] = []
    original = psycopg.Cursor.copy

    def copy(self: psycopg.Cursor, statement: Any, *args: Any, **kwargs: Any) -> Any:
        copies.append(str(statement))
        return original(self, statement, *args, **kwargs)

    monkeypatch.setattr(psycopg.Cursor, "copy", copy)
    rows = _export(client, supporters=5)
    assert len(rows) == 6
    assert [name for name in named_cursors if name] == []
    assert len(copies) == 1 and copies[0].startswith("COPY (")
