from __future__ import annotations

import pytest

from campaigns import services, signing
from campaigns.models import Signature


def sign(live, email: str, *, updates: bool, language: str = "en", confirm: bool = True):
    from django.utils import translation

    with translation.override(language):
        signature = services.signature_create(
            petition=live.petition,
            name="Anna Petrova",
            email=email,
            country="DE",
            updates=updates,
        )
    assert signature is not None
    if confirm:
        services.signature_confirm(token=signing.token_make(signature.pk, "confirm"))
    return Signature.objects.get(pk=signature.pk)


@pytest.fixture
def signer():
    return sign
