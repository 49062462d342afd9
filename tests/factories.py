"""factory_boy factories shared by every test module."""

from __future__ import annotations

import time
from datetime import timedelta

import factory
from allauth.account.models import EmailAddress
from allauth.mfa.totp.internal.auth import (
    TOTP,
    format_hotp_value,
    generate_totp_secret,
    hotp_value,
)
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from members.models import Membership, Organization, User

PASSWORD = "correct horse battery staple"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"person{n}@example.org")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def verified(self, create: bool, extracted: bool | None, **kwargs: object) -> None:
        if create and extracted is not False:
            self.save()
            EmailAddress.objects.create(user=self, email=self.email, verified=True, primary=True)


class OrganizationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organization

    name = factory.Sequence(lambda n: f"Organization {n:03d}")
    slug = factory.Sequence(lambda n: f"organization-{n:03d}")
    country_of_registration = "DE"
    countries_of_operation = ["DE", "FR"]
    website = "https://org.example.org/"
    mission = "Helping emigres with documents."
    languages = ["ru", "en"]
    legal_status = Organization.LegalStatus.NGO
    funding_disclosure = "Member fees."
    contact_email = factory.Sequence(lambda n: f"contact{n}@org.example.org")
    status = Organization.Status.APPLIED


class MemberOrganizationFactory(OrganizationFactory):
    status = Organization.Status.MEMBER
    joined_at = factory.LazyFunction(lambda: timezone.now() - timedelta(days=30))


def make_member(organization: Organization, role: str, *, mfa: bool = True) -> User:
    user = UserFactory()
    Membership.objects.create(user=user, organization=organization, role=role)
    if mfa:
        TOTP.activate(user, generate_totp_secret())  # encrypted, as a real set-up stores it
    return user


def make_admin(organization: Organization, *, mfa: bool = True) -> User:
    return make_member(organization, Membership.Role.ADMIN, mfa=mfa)


def totp_code(secret: str) -> str:
    """The code an authenticator app shows now for ``secret``.

    A code is valid in its own 30-second window only: none is handed out as its window closes,
    or the request that carries it could arrive in the next one.
    """
    closes_in = 30 - time.time() % 30
    if closes_in < 2:
        time.sleep(closes_in + 0.05)
    return format_hotp_value(hotp_value(secret, int(time.time()) // 30))


def make_staff(*, mfa: bool = True) -> tuple[User, str]:
    """A platform staff member (a superuser: every admin page), and their TOTP secret ("" without
    two-factor)."""
    user = UserFactory(is_staff=True, is_superuser=True)
    secret = ""
    if mfa:
        secret = generate_totp_secret()
        TOTP.activate(user, secret)
    return user, secret


def sign_in(client: Client, user: User, secret: str = "") -> None:
    """Sign in as a person does: allauth's form, then the code if two-factor is set up."""
    client.logout()
    response = client.post(reverse("account_login"), {"login": user.email, "password": PASSWORD})
    assert response.status_code == 302, response.content
    if secret:
        assert response["Location"] == reverse("mfa_authenticate")
        response = client.post(reverse("mfa_authenticate"), {"code": totp_code(secret)})
        assert response.status_code == 302, response.content
    assert client.session["_auth_user_id"] == str(user.pk)
