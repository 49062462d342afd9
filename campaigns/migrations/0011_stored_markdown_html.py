"""Campaign bodies and petition texts stored rendered (campaigns/text.py), so that a page view
never renders Markdown; existing rows are rendered here once."""

from __future__ import annotations

from typing import Any

from django.db import migrations, models


def _render_existing(apps: Any, schema_editor: Any) -> None:
    from campaigns.text import markdown_html

    for model_name, fields in (
        ("Campaign", ("body_en", "body_ru")),
        ("Petition", ("text_en", "text_ru")),
    ):
        model = apps.get_model("campaigns", model_name)
        targets = [f.replace("_", "_html_") for f in fields]
        for row in model.objects.only("pk", *fields).iterator(chunk_size=500):
            for source, target in zip(fields, targets, strict=True):
                setattr(row, target, markdown_html(getattr(row, source)))
            row.save(update_fields=targets)


class Migration(migrations.Migration):
    dependencies = [("campaigns", "0010_supporter_export_webhook_channel")]

    operations = [
        migrations.AddField(
            model_name="campaign",
            name="body_html_en",
            field=models.TextField(blank=True, editable=False),
        ),
        migrations.AddField(
            model_name="campaign",
            name="body_html_ru",
            field=models.TextField(blank=True, editable=False),
        ),
        migrations.AddField(
            model_name="petition",
            name="text_html_en",
            field=models.TextField(blank=True, editable=False),
        ),
        migrations.AddField(
            model_name="petition",
            name="text_html_ru",
            field=models.TextField(blank=True, editable=False),
        ),
        migrations.RunPython(_render_existing, migrations.RunPython.noop),
    ]
