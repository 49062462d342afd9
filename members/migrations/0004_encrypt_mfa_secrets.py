"""Encrypt the second factor's secrets written before members.adapters.MFAAdapter encrypted them.

TOTP keys ("secret"), the recovery-code seed ("seed") and codes migrated from another package
("migrated_codes"), in allauth's Authenticator.data. Values that already are Fernet tokens are
left alone, so the migration is safe on a database where some were encrypted already.
"""

from django.db import migrations

from foundation.crypto import decrypt, encrypt_if_plain, is_token, mfa_secrets_map


def _decrypt(value):
    return decrypt(value) if is_token(value) else value


def encrypt_secrets(apps, schema_editor):
    Authenticator = apps.get_model("mfa", "Authenticator")
    for authenticator in Authenticator.objects.all():
        Authenticator.objects.filter(pk=authenticator.pk).update(
            data=mfa_secrets_map(authenticator.data, encrypt_if_plain)
        )


def decrypt_secrets(apps, schema_editor):
    Authenticator = apps.get_model("mfa", "Authenticator")
    for authenticator in Authenticator.objects.all():
        Authenticator.objects.filter(pk=authenticator.pk).update(
            data=mfa_secrets_map(authenticator.data, _decrypt)
        )


class Migration(migrations.Migration):
    dependencies = [
        ("members", "0003_decision_outcome_code"),
        ("mfa", "0003_authenticator_type_uniq"),
    ]

    operations = [migrations.RunPython(encrypt_secrets, decrypt_secrets)]
