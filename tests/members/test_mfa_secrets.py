"""The second factor's secrets are encrypted at rest (members.adapters.MFAAdapter)."""

from __future__ import annotations

import importlib
import json
import secrets
import time

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import (
    TOTP,
    format_hotp_value,
    generate_totp_secret,
    hotp_value,
)
from django.apps import apps
from django.urls import reverse

from privacy.services import keys_rotate
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

FERNET = "gAAAAA"  # how every Fernet token starts


def _code(secret: str) -> str:
    return format_hotp_value(hotp_value(secret, int(time.time()) // 30))


def test_totp_key_is_stored_encrypted_and_codes_still_verify():
    user = UserFactory()
    secret = generate_totp_secret()
    TOTP.activate(user, secret)
    stored = Authenticator.objects.get(user=user, type=Authenticator.Type.TOTP)
    assert stored.data["secret"].startswith(FERNET)
    assert secret not in json.dumps(stored.data)
    assert TOTP(stored).validate_code(_code(secret)) is True
    assert TOTP(stored).validate_code(_code(generate_totp_secret())) is False  # another key's


def test_recovery_code_seed_is_stored_encrypted_and_codes_still_work():
    user = UserFactory()
    codes = RecoveryCodes.activate(user)
    stored = Authenticator.objects.get(user=user, type=Authenticator.Type.RECOVERY_CODES)
    assert stored.data["seed"].startswith(FERNET)
    unused = codes.get_unused_codes()
    assert len(unused) == 10 and not any(code in json.dumps(stored.data) for code in unused)
    assert RecoveryCodes(stored).validate_code(unused[0]) is True
    assert (
        unused[0] not in RecoveryCodes(Authenticator.objects.get(pk=stored.pk)).get_unused_codes()
    )


def test_admin_signs_in_with_an_encrypted_second_factor(client):
    user = UserFactory()
    secret = generate_totp_secret()
    TOTP.activate(user, secret)
    response = client.post(reverse("account_login"), {"login": user.email, "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == reverse("mfa_authenticate")
    assert "_auth_user_id" not in client.session  # not signed in on the password alone
    response = client.post(reverse("mfa_authenticate"), {"code": _code(secret)})
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(user.pk)


def test_key_rotation_re_encrypts_second_factor_secrets(settings):
    from cryptography.fernet import Fernet

    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.ENCRYPTION_KEYS = [old]
    user = UserFactory()
    secret = generate_totp_secret()
    TOTP.activate(user, secret)
    settings.ENCRYPTION_KEYS = [new, old]
    assert keys_rotate() >= 1
    settings.ENCRYPTION_KEYS = [new]  # the old key is gone: only re-encrypted secrets still work
    stored = Authenticator.objects.get(user=user, type=Authenticator.Type.TOTP)
    assert TOTP(stored).validate_code(_code(secret)) is True


def test_migration_encrypts_secrets_stored_in_the_clear_and_can_run_twice():
    migration = importlib.import_module("members.migrations.0004_encrypt_mfa_secrets")
    user = UserFactory()
    secret = generate_totp_secret()
    # As allauth stored them before the adapter encrypted anything.
    totp = Authenticator.objects.create(
        user=user, type=Authenticator.Type.TOTP, data={"secret": secret}
    )
    seed = secrets.token_hex(40)  # what RecoveryCodes.generate_seed makes
    recovery = Authenticator.objects.create(
        user=user, type=Authenticator.Type.RECOVERY_CODES, data={"seed": seed, "used_mask": 0}
    )
    migration.encrypt_secrets(apps, None)
    once = {a.pk: a.data for a in Authenticator.objects.filter(user=user)}
    migration.encrypt_secrets(apps, None)
    assert {a.pk: a.data for a in Authenticator.objects.filter(user=user)} == once
    assert once[totp.pk]["secret"].startswith(FERNET)
    assert once[recovery.pk]["seed"].startswith(FERNET) and once[recovery.pk]["used_mask"] == 0
    assert TOTP(Authenticator.objects.get(pk=totp.pk)).validate_code(_code(secret)) is True
    assert len(RecoveryCodes(Authenticator.objects.get(pk=recovery.pk)).get_unused_codes()) == 10
