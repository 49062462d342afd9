"""Test letters go to the asking person's own verified address: no typed-in test address."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("outreach", "0005_reply_review_before_publishing"),
    ]

    operations = [
        migrations.RemoveField(model_name="lettercampaign", name="test_address"),
    ]
