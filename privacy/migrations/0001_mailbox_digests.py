"""Re-key every row named by a mailbox digest after the normalization changed (issue 10).

foundation/mailbox.py now merges more spellings of one mailbox (Yandex, Proton and iCloud domains,
quoted local parts, ...), so digests computed before no longer match. This migration decrypts
each signature's address and each outbox row's recipient and stores the new digest;

- two signatures on one petition that now name the same mailbox keep one: the earliest
  confirmed, else the earliest started. The others are deleted with their personal data and
  uncounted as campaigns.services.signature_delete does (a -1 in the hour they counted);
- letters (outreach.Letter.signer_digest) follow their signer's digest, except where that would
  make two letters of one signer to one target: the later one keeps the old digest (the letters
  were sent; the record stays, only the duplicate check cannot join them);
- each changed signature digest is recorded in DigestAlias, for erase links already mailed.

Safe to run on a database where some rows already carry new digests.
"""

from email.utils import parseaddr

from django.db import migrations, models

from foundation.mailbox import email_digest

BATCH = 1000


def _keep_first(rows):
    """Of signatures naming one mailbox on one petition, the one that stays."""
    confirmed = [r for r in rows if r[4] == "confirmed"]
    if confirmed:
        return min(confirmed, key=lambda r: (r[6], r[0]))
    return min(rows, key=lambda r: (r[5], r[0]))


def rekey(apps, schema_editor):
    Signature = apps.get_model("campaigns", "Signature")
    Delta = apps.get_model("campaigns", "SignatureCountDelta")
    Email = apps.get_model("outbox", "Email")
    Letter = apps.get_model("outreach", "Letter")
    DigestAlias = apps.get_model("privacy", "DigestAlias")

    # 1. Signatures: the new digest of each (tuples, not model instances: there may be millions),
    # grouped per petition to find the ones that now name one mailbox.
    groups = {}
    renamed = {}  # old digest -> new digest
    fields = (
        "pk",
        "email",
        "email_digest",
        "petition_id",
        "status",
        "created_at",
        "confirmed_at",
        "country",
        "source_id",
    )
    for row in Signature.objects.values_list(*fields).iterator(chunk_size=BATCH):
        new = email_digest(row[1])
        if new != row[2]:
            renamed[row[2]] = new
        groups.setdefault((row[3], new), []).append((row[0], None, *row[2:]))
    for (_petition_id, new), rows in groups.items():
        keep = _keep_first(rows)
        for (
            pk,
            _email,
            _old,
            petition_id,
            status,
            created_at,
            confirmed_at,
            country,
            source,
        ) in rows:
            if pk == keep[0]:
                continue
            if status == "confirmed":
                at = confirmed_at or created_at
                Delta.objects.create(
                    petition_id=petition_id,
                    kind="confirmed",
                    country=str(country),
                    source_org_id=source or 0,
                    hour=at.replace(minute=0, second=0, microsecond=0),
                    delta=-1,
                )
            # Consents go with it; letters keep their record (Letter.signature is SET_NULL).
            Signature.objects.filter(pk=pk).delete()
        if keep[2] != new:
            Signature.objects.filter(pk=keep[0]).update(email_digest=new)

    # 2. Erase links already mailed carry the old digests.
    for old, new in renamed.items():
        DigestAlias.objects.update_or_create(old_digest=old, defaults={"digest": new})

    # 3. Letters follow their signer, unless a letter to the same target already has the digest.
    for letter in Letter.objects.filter(signer_digest__in=list(renamed)).order_by("pk"):
        new = renamed[letter.signer_digest]
        taken = Letter.objects.filter(
            letter_campaign_id=letter.letter_campaign_id,
            signer_digest=new,
            contact_id=letter.contact_id,
        ).exists()
        if not taken:
            Letter.objects.filter(pk=letter.pk).update(signer_digest=new)

    # 4. The outbox: every row gets the digest of its recipient's mailbox.
    changed = []
    for email in Email.objects.only("pk", "to", "recipient_digest").iterator(chunk_size=BATCH):
        new = email_digest(parseaddr(email.to)[1] or email.to)
        if new != email.recipient_digest:
            email.recipient_digest = new
            changed.append(email)
        if len(changed) >= BATCH:
            Email.objects.bulk_update(changed, ["recipient_digest"])
            changed = []
    if changed:
        Email.objects.bulk_update(changed, ["recipient_digest"])


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("campaigns", "0004_encrypt_personal_data"),
        ("outbox", "0004_recipient_digest"),
        ("outreach", "0001_initial"),
    ]

    operations = [
        migrations.CreateModel(
            name="DigestAlias",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("old_digest", models.CharField(max_length=64, unique=True)),
                ("digest", models.CharField(max_length=64)),
            ],
        ),
        migrations.RunPython(rekey, migrations.RunPython.noop),
    ]
