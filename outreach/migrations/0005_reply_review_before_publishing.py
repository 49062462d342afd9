"""Replies are published only after a co-sponsor reviewed them.

Existing replies: those a co-sponsor entered (their own summary) stay published, dated when they
were received; emailed (inbound) ones are unpublished: they may quote a signer's letter, so a
co-sponsor reviews the redacted text and publishes it again.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models
from django.db.models import F


def publish_entered_replies(apps, schema_editor):
    Reply = apps.get_model("outreach", "Reply")
    Reply.objects.filter(source="entered").update(
        published_at=F("received_at"), published_for=F("recorded_by")
    )


class Migration(migrations.Migration):
    dependencies = [
        ("outreach", "0004_delete_deliveryapproval"),
        ("members", "0001_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="reply",
            name="published_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="published"),
        ),
        migrations.AddField(
            model_name="reply",
            name="published_by",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
                verbose_name="published by",
            ),
        ),
        migrations.AddField(
            model_name="reply",
            name="published_for",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to="members.organization",
                verbose_name="published for",
            ),
        ),
        migrations.RunPython(publish_entered_replies, migrations.RunPython.noop),
    ]
