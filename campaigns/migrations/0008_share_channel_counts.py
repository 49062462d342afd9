# Share links carry a channel marker (?ch=telegram); visits through them are counted per petition
# and channel like the signature counts: an append-only delta folded by the counting job. The new
# column has a constant default, so PostgreSQL adds it without rewriting the delta table.


import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("campaigns", "0007_random_upload_names"),
    ]

    operations = [
        migrations.AddField(
            model_name="signaturecountdelta",
            name="channel",
            field=models.CharField(blank=True, default="", max_length=16),
        ),
        migrations.AlterField(
            model_name="signaturecountdelta",
            name="kind",
            field=models.CharField(
                choices=[("started", "Started"), ("confirmed", "Confirmed"), ("visit", "Visit")],
                default="confirmed",
                max_length=10,
            ),
        ),
        migrations.CreateModel(
            name="PetitionChannelCount",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("channel", models.CharField(max_length=16)),
                ("visits", models.IntegerField(default=0)),
                (
                    "petition",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="channel_counts",
                        to="campaigns.petition",
                    ),
                ),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(
                        fields=("petition", "channel"), name="one_count_per_channel"
                    )
                ],
            },
        ),
    ]
