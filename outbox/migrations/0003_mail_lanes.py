"""Mass mail gets its own lane (Email.bulk): rows already waiting are put in it by their kind."""

from django.db import migrations, models

# The kinds outreach/services.py queues with bulk=True.
_BULK_KINDS = ["outreach.letter", "outreach.delivery", "outreach.survey"]


def _mark_waiting_mass_mail(apps, schema_editor):
    Email = apps.get_model("outbox", "Email")
    # Only rows the relay can still hand out: sent and failed rows are never relayed again.
    Email.objects.filter(kind__in=_BULK_KINDS, status__in=["queued", "sending"]).update(bulk=True)


class Migration(migrations.Migration):
    dependencies = [
        ("outbox", "0002_encrypt_personal_data"),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name="email",
            name="outbox_email_due",
        ),
        migrations.AddField(
            model_name="email",
            name="bulk",
            field=models.BooleanField(default=False),
        ),
        migrations.AddIndex(
            model_name="email",
            index=models.Index(
                fields=["status", "bulk", "next_attempt_at"], name="outbox_email_due"
            ),
        ),
        migrations.RunPython(_mark_waiting_mass_mail, migrations.RunPython.noop),
    ]
