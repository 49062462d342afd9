from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("outbox", "0005_suppression_and_list_tokens"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="email",
            index=models.Index(
                condition=models.Q(
                    ("dispatched_at__isnull", False), ("status__in", ["queued", "sending"])
                ),
                fields=["bulk", "status", "dispatched_at"],
                name="outbox_email_in_flight",
            ),
        ),
    ]
