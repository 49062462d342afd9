"""Who is in the coalition: people, organizations, their roles, and coalition decisions."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.db import models
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_countries.fields import CountryField

# Languages an organization can work in: the coalition's own two plus those of its host countries.
WORKING_LANGUAGES = [
    ("ru", _("Russian")),
    ("en", _("English")),
    ("uk", _("Ukrainian")),
    ("be", _("Belarusian")),
    ("de", _("German")),
    ("fr", _("French")),
    ("es", _("Spanish")),
    ("it", _("Italian")),
    ("pl", _("Polish")),
    ("lt", _("Lithuanian")),
    ("lv", _("Latvian")),
    ("et", _("Estonian")),
    ("fi", _("Finnish")),
    ("cs", _("Czech")),
    ("nl", _("Dutch")),
    ("sr", _("Serbian")),
    ("ka", _("Georgian")),
    ("hy", _("Armenian")),
    ("kk", _("Kazakh")),
    ("tr", _("Turkish")),
    ("he", _("Hebrew")),
]


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def _create_user(self, email: str, password: str | None, **extra: Any) -> User:
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra: Any) -> User:
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra)

    def create_superuser(self, email: str, password: str | None = None, **extra: Any) -> User:
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self._create_user(email, password, **extra)


class User(AbstractUser):
    """A person with an account: organization staff and platform staff. Signers need none."""

    username = None  # type: ignore[assignment]
    email = models.EmailField(_("email address"), unique=True)

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []  # type: ignore[misc]

    objects = UserManager()  # type: ignore[assignment,misc]

    class Meta:
        verbose_name = _("person")
        verbose_name_plural = _("people")
        constraints = [models.UniqueConstraint(Lower("email"), name="user_email_ci_unique")]

    def __str__(self) -> str:
        return self.get_full_name() or self.email


class Organization(models.Model):
    class Status(models.TextChoices):
        # A new application waits for platform staff to screen it before any member is mailed.
        SCREENING = "screening", _("Awaiting screening")
        APPLIED = "applied", _("Applied")
        MEMBER = "member", _("Member")
        REJECTED = "rejected", _("Not admitted")
        SUSPENDED = "suspended", _("Suspended")

    class LegalStatus(models.TextChoices):
        NGO = "ngo", _("Registered non-profit association")
        FOUNDATION = "foundation", _("Foundation")
        MEDIA = "media", _("Media organization")
        INITIATIVE = "initiative", _("Unregistered initiative")
        OTHER = "other", _("Other")

    name = models.CharField(_("name"), max_length=120)
    slug = models.SlugField(_("short name"), max_length=60, unique=True)
    country_of_registration = CountryField(_("country of registration"))
    countries_of_operation = CountryField(_("countries of operation"), multiple=True)
    website = models.URLField(_("website"), max_length=200)
    mission = models.TextField(_("mission"), max_length=2000)
    languages = models.JSONField(_("working languages"), default=list)
    legal_status = models.CharField(_("legal status"), max_length=20, choices=LegalStatus.choices)
    funding_disclosure = models.TextField(_("funding disclosure"), max_length=2000)
    contact_email = models.EmailField(_("contact email"))

    # Optional: exports of this organization's supporters are then sealed to this key (NaCl
    # sealed boxes, base64), so only the holder of the private key can read them.
    export_public_key = models.CharField(_("export public key"), max_length=64, blank=True)

    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.APPLIED
    )
    applied_at = models.DateTimeField(_("applied"), default=timezone.now)
    # Who applied: the per-account caps count applications by this, even after the person
    # hands the organization to other admins and leaves it.
    applied_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("applied by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    screened_at = models.DateTimeField(_("screened"), null=True, blank=True)
    screened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("screened by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    # Why staff turned the application away in screening; shown to the applicant.
    screening_reason = models.CharField(_("screening reason"), max_length=300, blank=True)
    joined_at = models.DateTimeField(_("joined the coalition"), null=True, blank=True)

    class Meta:
        verbose_name = _("organization")
        verbose_name_plural = _("organizations")
        ordering = [Lower("name")]
        constraints = [
            models.UniqueConstraint(Lower("name"), name="organization_name_ci_unique"),
            models.CheckConstraint(
                condition=~models.Q(status="member") | models.Q(joined_at__isnull=False),
                name="organization_member_has_joined_at",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("members:organization", kwargs={"slug": self.slug})

    @property
    def is_member(self) -> bool:
        return self.status == self.Status.MEMBER

    def get_languages_display(self) -> list[str]:
        names = dict(WORKING_LANGUAGES)
        return [str(names.get(code, code)) for code in self.languages]


class Membership(models.Model):
    """A person's role in an organization."""

    class Role(models.TextChoices):
        ADMIN = "admin", _("Admin")
        EDITOR = "editor", _("Editor")
        VIEWER = "viewer", _("Viewer")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(_("role"), max_length=10, choices=Role.choices)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [
            models.UniqueConstraint(fields=["user", "organization"], name="one_role_per_person"),
        ]

    def __str__(self) -> str:
        return f"{self.user} — {self.organization} ({self.role})"


class Invitation(models.Model):
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="invitations"
    )
    email = models.EmailField(_("email"))
    role = models.CharField(_("role"), max_length=10, choices=Membership.Role.choices)
    # Only a keyed hash of the emailed token is stored: a leaked table opens no door.
    token_hash = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("invitation")
        verbose_name_plural = _("invitations")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.email} → {self.organization}"

    @property
    def is_pending(self) -> bool:
        return (
            self.accepted_at is None
            and self.revoked_at is None
            and self.expires_at > timezone.now()
        )


class Decision(models.Model):
    """A coalition decision: every member organization has exactly one vote."""

    class Kind(models.TextChoices):
        ADMIT_MEMBER = "admit_member", _("Admit a member")
        SUSPEND_MEMBER = "suspend_member", _("Suspend a member")
        ENDORSE_CAMPAIGN = "endorse_campaign", _("Endorse a campaign")
        AMEND_CHARTER = "amend_charter", _("Amend the charter")
        # The coalition's answer to an emigre proposal (the agenda app registers its effect).
        AGENDA_ANSWER = "agenda_answer", _("Answer an emigre proposal")

    class Status(models.TextChoices):
        OPEN = "open", _("Open for votes")
        CLOSED = "closed", _("Closed")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    class Outcome(models.TextChoices):
        ADOPTED = "adopted", _("Adopted")
        REJECTED = "rejected", _("Rejected")
        FOUNDING = "founding", _("Founding member")

    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), max_length=5000, blank=True)
    organization = models.ForeignKey(
        Organization,
        verbose_name=_("organization concerned"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="decisions_about",
    )
    proposed_by = models.ForeignKey(
        Organization,
        verbose_name=_("proposed by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="decisions_proposed",
    )
    opened_at = models.DateTimeField(_("opened"), default=timezone.now)
    deadline = models.DateTimeField(_("deadline"))
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.OPEN
    )
    outcome = models.CharField(_("outcome"), max_length=10, choices=Outcome.choices, blank=True)
    outcome_reason = models.CharField(_("why"), max_length=300, blank=True)  # English record
    # Which rule decided it, so the reason can be shown in the reader's language.
    outcome_code = models.CharField(max_length=12, blank=True)
    quorum_needed = models.PositiveIntegerField(default=0)
    # The tally is frozen at closing time so the ledger never changes with later membership.
    eligible_count = models.PositiveIntegerField(default=0)
    agree_count = models.PositiveIntegerField(default=0)
    disagree_count = models.PositiveIntegerField(default=0)
    abstain_count = models.PositiveIntegerField(default=0)
    block_count = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("decision")
        verbose_name_plural = _("decisions")
        ordering = ["-opened_at"]
        indexes = [models.Index(fields=["status", "deadline"], name="decision_due")]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "organization"],
                condition=models.Q(status="open"),
                name="one_open_decision_per_kind_and_organization",
            ),
            models.CheckConstraint(
                condition=models.Q(status="open") | models.Q(closed_at__isnull=False),
                name="decision_closed_has_closed_at",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("members:decision", kwargs={"pk": self.pk})

    @property
    def is_open(self) -> bool:
        return self.status == self.Status.OPEN and timezone.now() < self.deadline

    @property
    def display_title(self) -> str:
        """The title in the reader's language where the platform wrote it; else as proposed."""
        name = self.organization.name if self.organization_id and self.organization else ""
        if self.kind == self.Kind.ADMIT_MEMBER and name:
            return str(_("Admit %(name)s to the coalition") % {"name": name})
        endorsement = getattr(self, "endorsement", None)
        if self.kind == self.Kind.ENDORSE_CAMPAIGN and endorsement is not None:
            return str(
                _("Endorse the campaign “%(title)s”") % {"title": endorsement.campaign.title}
            )
        return self.title

    @property
    def reason_display(self) -> str:
        counts = {
            "agree": self.agree_count,
            "disagree": self.disagree_count,
            "abstain": self.abstain_count,
            "cast": self.votes_cast,
            "eligible": self.eligible_count,
            "needed": self.quorum_needed,
            "n": self.block_count,
        }
        texts = {
            "founding": _("Admitted as a founding member of the coalition."),
            "blocked": _("Blocked by %(n)d organization(s)."),
            "no_quorum": _(
                "No quorum: %(cast)d of %(eligible)d organizations voted, %(needed)d needed."
            ),
            "not_enough": _("Not enough support: %(agree)d agreed, %(disagree)d disagreed."),
            "adopted": _(
                "Adopted: %(agree)d agreed, %(disagree)d disagreed, %(abstain)d abstained."
            ),
        }
        text = texts.get(self.outcome_code)
        return str(text % counts) if text is not None else self.outcome_reason

    @property
    def votes_cast(self) -> int:
        return self.agree_count + self.disagree_count + self.abstain_count + self.block_count


class Vote(models.Model):
    class Choice(models.TextChoices):
        AGREE = "agree", _("Agree")
        ABSTAIN = "abstain", _("Abstain")
        DISAGREE = "disagree", _("Disagree")
        BLOCK = "block", _("Block")

    decision = models.ForeignKey(Decision, on_delete=models.CASCADE, related_name="votes")
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="votes")
    choice = models.CharField(_("vote"), max_length=10, choices=Choice.choices)
    reason = models.TextField(_("reason"), max_length=2000, blank=True)
    cast_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    cast_at = models.DateTimeField(default=timezone.now)
    changed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("vote")
        verbose_name_plural = _("votes")
        ordering = [Lower("organization__name")]
        constraints = [
            models.UniqueConstraint(
                fields=["decision", "organization"], name="one_vote_per_organization"
            ),
            models.CheckConstraint(
                condition=~models.Q(choice="block") | ~models.Q(reason=""),
                name="block_needs_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.organization}: {self.choice}"
