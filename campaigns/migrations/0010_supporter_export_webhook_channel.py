from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("campaigns", "0009_signature_wants_updates"),
    ]

    operations = [
        migrations.AlterField(
            model_name="supporterexport",
            name="channel",
            field=models.CharField(
                choices=[("file", "CSV file"), ("api", "API"), ("webhook", "Webhook")],
                default="file",
                max_length=8,
            ),
        ),
    ]
