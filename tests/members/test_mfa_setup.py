"""Setting up two-factor sign-in when a page asks for it: no second password prompt right after
signing in, and back to where the person was going."""

from __future__ import annotations

import time

import pytest
from allauth.mfa.totp.internal.auth import SECRET_SESSION_KEY
from django.urls import reverse

from members.models import Organization
from tests.factories import make_admin, sign_in, totp_code


@pytest.fixture
def admin_without_mfa(members: list[Organization]):
    return make_admin(members[0], mfa=False)


def test_admin_sent_to_set_up_two_factor_is_not_asked_for_the_password_again_and_returns(
    client, members, admin_without_mfa
) -> None:
    sign_in(client, admin_without_mfa)
    team = reverse("members:team", args=[members[0].slug])
    response = client.get(team)
    assert response["Location"] == reverse("mfa_activate_totp")
    page = client.get(response["Location"])
    assert page.status_code == 200  # the set-up form, not "confirm it is you"
    secret = client.session[SECRET_SESSION_KEY]
    done = client.post(reverse("mfa_activate_totp"), {"code": totp_code(secret)})
    assert done.status_code == 302
    assert done["Location"] == team
    followed = client.get(done["Location"])
    assert followed.status_code == 200
    assert "recovery codes" in followed.content.decode()


def test_opened_directly_the_set_up_still_ends_on_the_recovery_codes(
    client, admin_without_mfa
) -> None:
    sign_in(client, admin_without_mfa)
    client.get(reverse("mfa_activate_totp"))
    secret = client.session[SECRET_SESSION_KEY]
    done = client.post(reverse("mfa_activate_totp"), {"code": totp_code(secret)})
    assert done["Location"] == reverse("mfa_view_recovery_codes")


def test_a_sign_in_older_than_the_reauthentication_window_is_asked_again(
    client, admin_without_mfa, monkeypatch
) -> None:
    sign_in(client, admin_without_mfa)
    later = time.time() + 301
    monkeypatch.setattr(time, "time", lambda: later)
    response = client.get(reverse("mfa_activate_totp"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_reauthenticate"))


def test_a_session_opened_without_a_password_is_asked_for_it(client, admin_without_mfa) -> None:
    client.force_login(admin_without_mfa)
    response = client.get(reverse("mfa_activate_totp"))
    assert response["Location"].startswith(reverse("account_reauthenticate"))
