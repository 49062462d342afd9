"""Issue 10: a letter campaign's reply address was whatever a co-sponsor typed, so officials'
replies (quoting the signer's letter) could go straight to one organization's mailbox. Letters
now always carry the platform's own letters address as Reply-To (or the signer's, if she chose).

The approval fingerprint changes with it: it no longer holds the reply address, and it binds
each fixed target's address. A letter campaign whose stored fingerprint is exactly the old one of
its content stays approved under the new one; any other stays off the air until approved again.
"""

import hashlib
import json

from django.db import migrations

_FIELDS = (
    "petition_id",
    "subject_en",
    "subject_ru",
    "body_en",
    "body_ru",
    "targeting",
    "institutions",
    "topic",
    "max_personal_length",
)


def _fingerprint(letter_campaign, old: bool) -> str:
    content = {f: getattr(letter_campaign, f) for f in _FIELDS}
    content["institutions"] = sorted(content["institutions"] or [])
    if old:
        content["reply_to"] = letter_campaign.reply_to
        content["targets"] = sorted(letter_campaign.targets.values_list("pk", flat=True))
    else:
        content["targets"] = sorted(
            [pk, email.lower()] for pk, email in letter_campaign.targets.values_list("pk", "email")
        )
    encoded = json.dumps(content, sort_keys=True, ensure_ascii=False).encode()
    return hashlib.sha256(encoded).hexdigest()


def refingerprint(apps, schema_editor):
    LetterCampaign = apps.get_model("outreach", "LetterCampaign")
    for letter_campaign in LetterCampaign.objects.exclude(approved_fingerprint=""):
        if letter_campaign.approved_fingerprint == _fingerprint(letter_campaign, old=True):
            letter_campaign.approved_fingerprint = _fingerprint(letter_campaign, old=False)
            letter_campaign.save(update_fields=["approved_fingerprint"])


class Migration(migrations.Migration):
    dependencies = [
        ("outreach", "0006_remove_lettercampaign_test_address"),
    ]

    operations = [
        migrations.RunPython(refingerprint, migrations.RunPython.noop),
        migrations.RemoveField(
            model_name="lettercampaign",
            name="reply_to",
        ),
    ]
