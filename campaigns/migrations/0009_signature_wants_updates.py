# Signature.wants_updates: "keep me informed about this campaign" (issue 12). A constant default,
# so PostgreSQL adds the column without rewriting the signatures table.

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("campaigns", "0008_share_channel_counts"),
    ]

    operations = [
        migrations.AddField(
            model_name="signature",
            name="wants_updates",
            field=models.BooleanField(default=False),
        ),
    ]
