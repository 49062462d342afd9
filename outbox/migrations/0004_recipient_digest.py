"""Email.recipient_digest: the keyed hash of the recipient's mailbox.

The column is filled for existing rows by privacy's 0001_mailbox_digests, together with the
signatures' digests, since both must change in step with the normalization.
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("outbox", "0003_mail_lanes"),
    ]

    operations = [
        migrations.AddField(
            model_name="email",
            name="recipient_digest",
            field=models.CharField(blank=True, default="", max_length=64),
        ),
        migrations.AddIndex(
            model_name="email",
            index=models.Index(
                fields=["recipient_digest", "created_at"], name="outbox_email_mailbox"
            ),
        ),
    ]
