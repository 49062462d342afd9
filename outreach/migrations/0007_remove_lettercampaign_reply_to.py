"""Issue 10: a letter campaign's reply address was whatever a co-sponsor typed, so officials'
replies (quoting the signer's letter) could go straight to one organization's mailbox. Letters
now always carry the platform's own letters address as Reply-To (or the signer's, if she chose)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("outreach", "0006_remove_lettercampaign_test_address"),
    ]

    operations = [
        migrations.RemoveField(
            model_name="lettercampaign",
            name="reply_to",
        ),
    ]
