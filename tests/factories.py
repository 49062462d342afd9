"""factory_boy factories shared by every test module."""

from __future__ import annotations

from datetime import timedelta

import factory
from allauth.account.models import EmailAddress
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
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
