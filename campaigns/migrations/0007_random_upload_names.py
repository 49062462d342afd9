# Uploads are checked by content and stored under random names (foundation/uploads.py). Files
# uploaded earlier keep their names; only the way new ones are named and checked changes.

from django.db import migrations, models

import foundation.uploads


class Migration(migrations.Migration):
    dependencies = [
        ("campaigns", "0006_supporter_export_channel"),
    ]

    operations = [
        migrations.AlterField(
            model_name="campaign",
            name="image",
            field=models.ImageField(
                blank=True,
                upload_to=foundation.uploads.campaign_image_path,
                validators=[foundation.uploads.validate_image],
                verbose_name="image",
            ),
        ),
        migrations.AlterField(
            model_name="outcomeevent",
            name="evidence_file",
            field=models.FileField(
                blank=True,
                upload_to=foundation.uploads.evidence_path,
                validators=[foundation.uploads.validate_evidence],
                verbose_name="evidence file",
            ),
        ),
    ]
