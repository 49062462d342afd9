"""EU contacts, letters from signers, petition deliveries and the replies they bring."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_countries.fields import CountryField

from campaigns.models import Campaign, Petition, Signature
from members.models import Organization
from outbox.models import Email


class Contact(models.Model):
    """A decision-maker or office with a public email address."""

    class Kind(models.TextChoices):
        PERSON = "person", _("Person")
        OFFICE = "office", _("Office")

    class Institution(models.TextChoices):
        PARLIAMENT = "ep", _("European Parliament")
        COMMISSION = "commission", _("European Commission")
        COUNCIL = "council", _("Council of the EU")
        NATIONAL = "national", _("National government")
        REGULATOR = "regulator", _("Regulator")
        BANKING = "banking", _("Bank or association")
        OTHER = "other", _("Other")

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        BOUNCING = "bouncing", _("Bouncing")
        BLOCKED = "blocked", _("Blocked")
        UNSUBSCRIBED = "unsubscribed", _("Unsubscribed")

    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices, default=Kind.PERSON)
    name = models.CharField(_("name"), max_length=200)
    title = models.CharField(_("title"), max_length=200, blank=True)
    institution = models.CharField(_("institution"), max_length=12, choices=Institution.choices)
    country = CountryField(_("country"), blank=True)
    political_group = models.CharField(_("political group"), max_length=100, blank=True)
    languages = models.JSONField(_("languages"), default=list, blank=True)
    email = models.EmailField(_("public email"))
    topics = models.JSONField(_("topics"), default=list, blank=True)
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.ACTIVE
    )
    time_zone = models.CharField(_("time zone"), max_length=40, default="Europe/Brussels")
    # A stable id from the source list (e.g. "ep:124936"), so a re-import updates, not duplicates.
    external_id = models.CharField(max_length=64, null=True, blank=True, unique=True)
    # Pacing: the earliest time the next message to this contact may leave.
    next_slot_at = models.DateTimeField(default=timezone.now)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("EU contact")
        verbose_name_plural = _("EU contacts")
        ordering = ["institution", "name"]
        constraints = [models.UniqueConstraint(fields=["email"], name="one_contact_per_email")]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_institution_display()})"


class LetterCampaign(models.Model):
    """A letter signers may send, after confirming, to the targets the rule picks."""

    class Targeting(models.TextChoices):
        FIXED = "fixed", _("A fixed list of contacts")
        COUNTRY = "country", _("By the signer's country of residence")
        TOPIC = "topic", _("By topic")

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="letters")
    petition = models.ForeignKey(
        Petition, on_delete=models.CASCADE, related_name="letter_campaigns",
        help_text=_("Signers of this petition may send the letter."),
    )  # fmt: skip
    subject_en = models.CharField(_("subject (English)"), max_length=200, blank=True)
    subject_ru = models.CharField(_("subject (Russian)"), max_length=200, blank=True)
    body_en = models.TextField(_("letter (English)"), max_length=10000, blank=True)
    body_ru = models.TextField(_("letter (Russian)"), max_length=10000, blank=True)
    targeting = models.CharField(max_length=8, choices=Targeting.choices, default=Targeting.FIXED)
    targets = models.ManyToManyField(Contact, blank=True, related_name="+")
    institutions = models.JSONField(default=list, blank=True)  # for COUNTRY targeting
    topic = models.CharField(max_length=60, blank=True)
    max_personal_length = models.PositiveSmallIntegerField(default=600)
    hourly_cap = models.PositiveSmallIntegerField(_("letters per target per hour"), default=30)
    starts_at = models.DateTimeField(_("sending window opens"), default=timezone.now)
    ends_at = models.DateTimeField(_("sending window closes"), null=True, blank=True)
    # A draft until every co-sponsor approved it (a UNANIMOUS joint act): signers are not led to
    # it and cannot send it. Test letters carry a made-up sample signer, never a real one, and
    # go only to the asking person's own verified address (services.letter_test_send).
    test_mode = models.BooleanField(_("test mode"), default=True)
    # The content the co-sponsors approved (outreach.selectors.letter_campaign_fingerprint):
    # any later change to the text, targets or targeting makes the campaign unapproved again.
    approved_fingerprint = models.CharField(max_length=64, blank=True)
    approved_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]


class Letter(models.Model):
    """One signer's letter to one target: at most one per signer per target."""

    letter_campaign = models.ForeignKey(
        LetterCampaign, on_delete=models.CASCADE, related_name="letters"
    )
    signature = models.ForeignKey(
        Signature, on_delete=models.SET_NULL, null=True, related_name="letters"
    )
    # Kept when a signer withdraws (the letter was sent), so dedup survives without personal data.
    signer_digest = models.CharField(max_length=64)
    contact = models.ForeignKey(Contact, on_delete=models.PROTECT, related_name="letters")
    email = models.OneToOneField(Email, on_delete=models.PROTECT, related_name="letter")
    reveal_email = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)
    survey_sent_at = models.DateTimeField(null=True, blank=True)
    survey_reminded_at = models.DateTimeField(null=True, blank=True)
    signer_answer = models.CharField(max_length=8, blank=True)  # yes / no / not_yet

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["letter_campaign", "signer_digest", "contact"],
                name="one_letter_per_signer_per_target",
            ),
        ]


class PetitionDelivery(models.Model):
    """A petition handed to its targets as one message from all co-sponsors equally."""

    class Status(models.TextChoices):
        AWAITING_APPROVAL = "awaiting", _("Awaiting approval of every co-sponsor")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")

    petition = models.ForeignKey(Petition, on_delete=models.CASCADE, related_name="deliveries")
    milestone = models.PositiveIntegerField(null=True, blank=True)
    scheduled_for = models.DateTimeField(null=True, blank=True)
    include_names = models.BooleanField(default=False)
    targets = models.ManyToManyField(Contact, related_name="+")
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.AWAITING_APPROVAL
    )
    confirmed_count = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    emails = models.ManyToManyField(Email, related_name="+", blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["petition", "milestone"], name="one_delivery_per_milestone"
            ),
        ]


class Reply(models.Model):
    """An official's answer, received by inbound mail or entered by a co-sponsor."""

    class Source(models.TextChoices):
        INBOUND = "inbound", _("Inbound email")
        ENTERED = "entered", _("Entered by a co-sponsor")

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="replies")
    contact = models.ForeignKey(
        Contact, on_delete=models.SET_NULL, null=True, blank=True, related_name="replies"
    )
    letter = models.ForeignKey(
        Letter, on_delete=models.SET_NULL, null=True, blank=True, related_name="replies"
    )
    received_at = models.DateTimeField(_("received"), default=timezone.now)
    summary = models.TextField(_("text or summary"), max_length=10000, blank=True)
    url = models.URLField(_("link"), blank=True)
    source = models.CharField(max_length=8, choices=Source.choices)
    recorded_by = models.ForeignKey(
        Organization, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # An emailed reply quotes the signer's letter: it is stored with the quote cut and the
    # signer's details redacted, and shown publicly only once a co-sponsor reviewed and published
    # it (services.reply_publish). A reply a co-sponsor enters is their own summary: published.
    published_at = models.DateTimeField(_("published"), null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("published by"),
    )
    published_for = models.ForeignKey(
        Organization,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("published for"),
    )

    class Meta:
        ordering = ["-received_at"]
