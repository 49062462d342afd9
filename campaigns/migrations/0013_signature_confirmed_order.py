"""An index for the supporter export (issue 11): a petition's confirmed signatures in id order.

Built CONCURRENTLY on PostgreSQL, so signing goes on while it is built on a large table (hence
not atomic); SQLite (development without DATABASE_URL) builds it the ordinary way.
"""

from typing import Any

from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class AddIndexConcurrentlyOnPostgres(AddIndexConcurrently):
    def database_forwards(self, app_label: str, schema_editor: Any, *args: Any) -> None:
        if schema_editor.connection.vendor == "postgresql":
            super().database_forwards(app_label, schema_editor, *args)
        else:
            migrations.AddIndex.database_forwards(self, app_label, schema_editor, *args)

    def database_backwards(self, app_label: str, schema_editor: Any, *args: Any) -> None:
        if schema_editor.connection.vendor == "postgresql":
            super().database_backwards(app_label, schema_editor, *args)
        else:
            migrations.AddIndex.database_backwards(self, app_label, schema_editor, *args)


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("campaigns", "0012_campaign_high_security"),
    ]

    operations = [
        AddIndexConcurrentlyOnPostgres(
            model_name="signature",
            index=models.Index(
                condition=models.Q(status="confirmed"),
                fields=["petition", "id"],
                name="signature_confirmed_order",
            ),
        ),
    ]
