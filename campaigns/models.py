"""What the coalition does: campaigns co-sponsored as equals, petitions and their signatures."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext_lazy as _
from django_countries.fields import CountryField

from campaigns.text import markdown_html
from foundation import uploads
from foundation.fields import EncryptedTextField
from members.models import Decision, Organization


def _localized_code(obj: object, field: str) -> str:
    """The language whose ``field`` the reader gets: theirs, else the first one that is filled."""
    language = (translation.get_language() or "en")[:2]
    order = [language] + [code for code, _name in settings.LANGUAGES if code != language]
    return next((code for code in order if getattr(obj, f"{field}_{code}", "")), language)


def _stored_html(obj: object, field: str) -> SafeString:
    """The stored rendering of ``field`` (Markdown) in the language ``_localized`` picks for it:
    rendered once when the text is saved (``markdown_html``), never on a page view."""
    code = _localized_code(obj, field)
    return mark_safe(getattr(obj, f"{field}_html_{code}", ""))  # noqa: S308 - sanitized by nh3


def _render_stored_html(obj: models.Model, fields: dict[str, str], update_fields: Any) -> Any:
    """Fill the ``<field>_html_<code>`` columns of the text fields being saved; returns the
    ``update_fields`` to pass on (with those columns added when only some fields are saved)."""
    names = None if update_fields is None else set(update_fields)
    for source, target in fields.items():
        if names is None or source in names:
            setattr(obj, target, markdown_html(getattr(obj, source)))
            if names is not None:
                names.add(target)
    return update_fields if names is None else names


def _localized(obj: object, field: str) -> str:
    """The field in the reader's language, falling back to the other one: either may come first."""
    language = (translation.get_language() or "en")[:2]
    order = [language] + [code for code, _name in settings.LANGUAGES if code != language]
    for code in order:
        value = getattr(obj, f"{field}_{code}", "")
        if value:
            return str(value)
    return ""


class IssueArea(models.Model):
    """A managed list of the everyday problems campaigns work on."""

    slug = models.SlugField(unique=True)
    name_en = models.CharField(_("name (English)"), max_length=100)
    name_ru = models.CharField(_("name (Russian)"), max_length=100)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        verbose_name = _("issue area")
        verbose_name_plural = _("issue areas")
        ordering = ["position", "slug"]

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        return _localized(self, "name")


class Campaign(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        GATHERING = "gathering", _("Gathering co-sponsors")
        LIVE = "live", _("Live")
        PAUSED = "paused", _("Paused")
        CLOSED = "closed", _("Closed")

    class Result(models.TextChoices):
        WON = "won", _("Won")
        PARTLY_WON = "partly_won", _("Partly won")
        LOST = "lost", _("Lost")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    slug = models.SlugField(_("short name"), max_length=80, unique=True)
    issue_area = models.ForeignKey(
        IssueArea, verbose_name=_("issue area"), on_delete=models.PROTECT, related_name="campaigns"
    )
    title_en = models.CharField(_("title (English)"), max_length=200, blank=True)
    title_ru = models.CharField(_("title (Russian)"), max_length=200, blank=True)
    summary_en = models.TextField(_("summary (English)"), max_length=600, blank=True)
    summary_ru = models.TextField(_("summary (Russian)"), max_length=600, blank=True)
    body_en = models.TextField(_("text (English, Markdown)"), max_length=20000, blank=True)
    body_ru = models.TextField(_("text (Russian, Markdown)"), max_length=20000, blank=True)
    # The bodies rendered and sanitized when saved: a page view never renders Markdown.
    body_html_en = models.TextField(blank=True, editable=False)
    body_html_ru = models.TextField(blank=True, editable=False)
    image = models.ImageField(
        _("image"), upload_to=uploads.campaign_image_path, validators=[uploads.validate_image],
        blank=True,
    )  # fmt: skip
    image_alt = models.CharField(_("image description"), max_length=200, blank=True)

    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.DRAFT
    )
    result = models.CharField(_("result"), max_length=12, choices=Result.choices, blank=True)
    result_summary = models.TextField(
        _("public summary of the result"), max_length=2000, blank=True
    )
    endorsed_at = models.DateTimeField(_("endorsed by the coalition"), null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    went_live_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    # High security (campaigns/services/security.py): the sign form asks for no city and shows
    # no names, and signers' data is deleted HIGH_SECURITY_RETENTION_AFTER_CLOSE after closing.
    # Any co-sponsor's admin switches it on; off only by all co-sponsors, and never once signed.
    high_security = models.BooleanField(_("high security"), default=False)

    class Meta:
        verbose_name = _("campaign")
        verbose_name_plural = _("campaigns")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(status="closed") | ~models.Q(result=""),
                name="closed_campaign_has_result",
            ),
            models.CheckConstraint(
                condition=~models.Q(title_en="", title_ru=""),
                name="campaign_has_a_title",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def save(self, *args: Any, **kwargs: Any) -> None:
        # A derived column of this row, not a side effect: the stored HTML is the Markdown's.
        kwargs["update_fields"] = _render_stored_html(
            self,
            {"body_en": "body_html_en", "body_ru": "body_html_ru"},
            kwargs.get("update_fields"),
        )
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse("campaigns:campaign", kwargs={"slug": self.slug})

    @property
    def title(self) -> str:
        return _localized(self, "title")

    @property
    def summary(self) -> str:
        return _localized(self, "summary")

    @property
    def body(self) -> str:
        return _localized(self, "body")

    @property
    def body_html(self) -> SafeString:
        return _stored_html(self, "body")

    @property
    def languages(self) -> list[str]:
        return [code for code, _n in settings.LANGUAGES if getattr(self, f"title_{code}")]


class CoSponsorship(models.Model):
    """An organization's place among a campaign's co-sponsors. All co-sponsors are equal."""

    class Status(models.TextChoices):
        INVITED = "invited", _("Invited")
        ACCEPTED = "accepted", _("Co-sponsor")
        DECLINED = "declined", _("Declined")
        WITHDRAWN = "withdrawn", _("Withdrew")

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="cosponsorships")
    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="cosponsorships"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.INVITED)
    invited_at = models.DateTimeField(default=timezone.now)
    responded_at = models.DateTimeField(null=True, blank=True)
    # Where this organization's test mail goes (letters in test mode, petition deliveries).
    test_email = models.EmailField(_("test address"), blank=True)

    class Meta:
        verbose_name = _("co-sponsorship")
        verbose_name_plural = _("co-sponsorships")
        ordering = [Lower("organization__name")]
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "organization"], name="one_cosponsorship_per_organization"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.organization} — {self.campaign}"


class CampaignRevision(models.Model):
    """One edit of a campaign's text, kept for everyone to see: who, when, what changed."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="revisions")
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    edited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    edited_at = models.DateTimeField(default=timezone.now)
    changes = models.JSONField(default=dict)  # field name -> [old, new]

    class Meta:
        ordering = ["-edited_at", "-pk"]


class CampaignEndorsement(models.Model):
    """Links a campaign to the coalition decision that was asked to endorse it."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="endorsements")
    decision = models.OneToOneField(Decision, on_delete=models.CASCADE, related_name="endorsement")


class Petition(models.Model):
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="petitions")
    slug = models.SlugField(_("short name"), max_length=80, unique=True)
    title_en = models.CharField(_("title (English)"), max_length=200, blank=True)
    title_ru = models.CharField(_("title (Russian)"), max_length=200, blank=True)
    text_en = models.TextField(_("petition text (English, Markdown)"), max_length=10000, blank=True)
    text_ru = models.TextField(_("petition text (Russian, Markdown)"), max_length=10000, blank=True)
    # The texts rendered and sanitized when saved: a page view never renders Markdown.
    text_html_en = models.TextField(blank=True, editable=False)
    text_html_ru = models.TextField(blank=True, editable=False)
    addressed_to = models.CharField(_("addressed to"), max_length=300)
    goal = models.PositiveIntegerField(_("signature goal"), default=1000)
    deadline = models.DateTimeField(_("deadline"), null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    # Maintained by the counting job from SignatureCountDelta rows; may lag by a few seconds.
    confirmed_count = models.IntegerField(default=0)
    started_count = models.IntegerField(default=0)

    class Meta:
        verbose_name = _("petition")
        verbose_name_plural = _("petitions")
        ordering = ["created_at", "pk"]
        constraints = [
            models.CheckConstraint(condition=models.Q(goal__gte=1), name="petition_goal_positive"),
        ]

    def __str__(self) -> str:
        return self.title

    def save(self, *args: Any, **kwargs: Any) -> None:
        # A derived column of this row, not a side effect: the stored HTML is the Markdown's.
        kwargs["update_fields"] = _render_stored_html(
            self,
            {"text_en": "text_html_en", "text_ru": "text_html_ru"},
            kwargs.get("update_fields"),
        )
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse("campaigns:petition", kwargs={"slug": self.slug})

    @property
    def title(self) -> str:
        return _localized(self, "title")

    @property
    def text(self) -> str:
        return _localized(self, "text")

    @property
    def text_html(self) -> SafeString:
        return _stored_html(self, "text")

    @property
    def is_open(self) -> bool:
        return self.campaign.status == Campaign.Status.LIVE and (
            self.deadline is None or self.deadline > timezone.now()
        )

    @property
    def progress_percent(self) -> int:
        return min(100, round(100 * self.confirmed_count / self.goal)) if self.goal else 0


class Signature(models.Model):
    class Display(models.TextChoices):
        ANONYMOUS = "anonymous", _("Anonymous")
        FIRST_NAME_INITIAL = "initial", _("First name and initial")
        FULL_NAME = "full", _("Full name")

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for confirmation")
        CONFIRMED = "confirmed", _("Confirmed")

    petition = models.ForeignKey(Petition, on_delete=models.CASCADE, related_name="signatures")
    # Encrypted at rest; deduplication and lookups use email_digest, never the address.
    name = EncryptedTextField()
    email = EncryptedTextField()
    # Keyed hash of the normalized address: deduplication without comparing plain emails.
    email_digest = models.CharField(max_length=64)
    country = CountryField()
    city = EncryptedTextField(blank=True)
    display = models.CharField(max_length=10, choices=Display.choices, default=Display.ANONYMOUS)
    source = models.ForeignKey(
        Organization, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    created_at = models.DateTimeField(default=timezone.now)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    reminders_sent = models.PositiveSmallIntegerField(default=0)
    last_mailed_at = models.DateTimeField(default=timezone.now)
    language = models.CharField(max_length=8, default="en")
    # "Keep me informed about this campaign": the co-sponsors' joint updates (updates/), never
    # one organization's own mail (that is SupporterConsent). Unticked unless the signer ticks it.
    wants_updates = models.BooleanField(default=False)

    class Meta:
        verbose_name = _("signature")
        verbose_name_plural = _("signatures")
        constraints = [
            models.UniqueConstraint(
                fields=["petition", "email_digest"], name="one_signature_per_email"
            ),
        ]
        indexes = [
            models.Index(fields=["petition", "status", "-confirmed_at"], name="signature_recent"),
            models.Index(fields=["status", "created_at"], name="signature_pending_age"),
            # The supporter export reads a petition's confirmed signatures in id order: with
            # this index PostgreSQL streams them without sorting a million rows first.
            models.Index(
                fields=["petition", "id"],
                condition=models.Q(status="confirmed"),
                name="signature_confirmed_order",
            ),
        ]

    def __str__(self) -> str:
        return f"signature #{self.pk}"

    @property
    def public_name(self) -> str:
        if self.display == self.Display.FULL_NAME:
            return self.name
        if self.display == self.Display.FIRST_NAME_INITIAL:
            parts = self.name.split()
            if len(parts) > 1:
                return f"{parts[0]} {parts[-1][0]}."
            return parts[0] if parts else ""
        return ""


class SupporterConsent(models.Model):
    """A signer allowed this one co-sponsor to contact them. Nothing else may."""

    signature = models.ForeignKey(Signature, on_delete=models.CASCADE, related_name="consents")
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["signature", "organization"], name="one_consent_per_organization"
            ),
        ]


class SignatureCountDelta(models.Model):
    """An append-only +1/-1 written when a signature is started, confirmed or withdrawn.

    Signing only ever inserts; a periodic job folds the deltas into the per-petition, per-country,
    per-hour and per-source totals, so there is no hot counter row for concurrent signers to
    fight over, and no page ever scans signatures.
    """

    class Kind(models.TextChoices):
        STARTED = "started"
        CONFIRMED = "confirmed"
        # A visit that arrived through a share link (?ch=telegram): counted per channel only,
        # with nothing about the visitor (campaigns/sharing.py).
        VISIT = "visit"

    petition = models.ForeignKey(Petition, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.CONFIRMED)
    country = models.CharField(max_length=2)
    channel = models.CharField(max_length=16, blank=True, default="")  # VISIT rows only
    source_org_id = models.PositiveBigIntegerField(default=0)  # 0: nobody's link or widget
    hour = models.DateTimeField(default=timezone.now)
    delta = models.SmallIntegerField()
    created_at = models.DateTimeField(default=timezone.now)


class PetitionHourCount(models.Model):
    """Signatures started and confirmed per petition per hour: the source of every chart."""

    petition = models.ForeignKey(Petition, on_delete=models.CASCADE, related_name="hour_counts")
    hour = models.DateTimeField()
    started = models.IntegerField(default=0)
    confirmed = models.IntegerField(default=0)

    class Meta:
        ordering = ["hour"]
        constraints = [
            models.UniqueConstraint(fields=["petition", "hour"], name="one_count_per_hour"),
        ]


class PetitionSourceCount(models.Model):
    """Confirmed signatures per recruiting co-sponsor (0: came directly)."""

    petition = models.ForeignKey(Petition, on_delete=models.CASCADE, related_name="source_counts")
    source_org_id = models.PositiveBigIntegerField(default=0)
    confirmed = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["petition", "source_org_id"], name="one_count_per_source"
            ),
        ]


class PetitionChannelCount(models.Model):
    """Visits that arrived through a share link, per petition and channel (telegram, email...).

    A count and nothing else: no visitor, no signer, no time finer than the total."""

    petition = models.ForeignKey(Petition, on_delete=models.CASCADE, related_name="channel_counts")
    channel = models.CharField(max_length=16)
    visits = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["petition", "channel"], name="one_count_per_channel"),
        ]


class OutcomeEvent(models.Model):
    """One step on a campaign's public timeline, recorded by a co-sponsor or by the system."""

    class Kind(models.TextChoices):
        PETITION_DELIVERED = "delivered", _("Petition delivered")
        LETTER_WAVE = "letters", _("Letter wave sent")
        REPLY = "reply", _("Reply received")
        MEETING = "meeting", _("Meeting held")
        STATEMENT = "statement", _("Public statement")
        MEDIA = "media", _("Media coverage")
        POLICY_CHANGE = "policy", _("Policy or rule changed")
        MILESTONE = "milestone", _("Signature milestone")
        RESULT = "result", _("Campaign result")

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(_("what happened"), max_length=10, choices=Kind.choices)
    date = models.DateField(_("date"))
    description_en = models.CharField(_("description (English)"), max_length=500, blank=True)
    description_ru = models.CharField(_("description (Russian)"), max_length=500, blank=True)
    evidence_url = models.URLField(_("evidence link"), blank=True)
    evidence_file = models.FileField(
        _("evidence file"), upload_to=uploads.evidence_path, validators=[uploads.validate_evidence],
        blank=True,
    )  # fmt: skip
    system = models.BooleanField(default=False)
    link = models.CharField(max_length=200, blank=True)  # e.g. "#reply-12" on the campaign page
    recorded_by = models.ForeignKey(
        Organization, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    recorded_by_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("outcome")
        verbose_name_plural = _("outcomes")
        ordering = ["-date", "-created_at"]
        indexes = [models.Index(fields=["campaign", "-date"], name="event_timeline")]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(description_en="", description_ru=""),
                name="event_has_description",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} — {self.date}"

    @property
    def description(self) -> str:
        return _localized(self, "description")


class PetitionCountryCount(models.Model):
    petition = models.ForeignKey(Petition, on_delete=models.CASCADE, related_name="country_counts")
    country = CountryField()
    count = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-count", "country"]
        constraints = [
            models.UniqueConstraint(fields=["petition", "country"], name="one_count_per_country"),
        ]


class SupporterExport(models.Model):
    """Audit log: who exported which supporters, visible to every co-sponsor and to staff.

    Supporters read through the partner API are logged here too, one row per campaign and
    response, so co-sponsors and staff see every way personal data left (api/osdi.py); so are
    supporters sent by webhook, one row per endpoint, campaign and day, counting the
    ``signature.confirmed`` deliveries it accepted (webhooks.services.delivery_log_access).
    """

    class Channel(models.TextChoices):
        FILE = "file", _("CSV file")
        API = "api", _("API")
        WEBHOOK = "webhook", _("Webhook")

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="exports")
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    exported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    exported_at = models.DateTimeField(default=timezone.now)
    row_count = models.PositiveIntegerField(null=True, blank=True)
    channel = models.CharField(max_length=8, choices=Channel.choices, default=Channel.FILE)
    api_token = models.CharField(max_length=140, blank=True)  # the token's name and prefix

    class Meta:
        ordering = ["-exported_at"]


class JointAct(models.Model):
    """One co-sponsor proposes; the act takes effect only with the other co-sponsors' consent.

    UNANIMOUS: every accepted co-sponsor's admin approves (letter campaigns going live).
    NO_OBJECTION: effective when every other co-sponsor approved, or when the objection period
    passed and none objected (closing a campaign; later, campaign updates). Any objection stops
    it. The co-sponsors counted are those accepted when the act is settled, not when proposed.
    What an adopted act does is registered per kind (campaigns/joint.py), so campaigns never
    imports the apps whose acts it settles.
    """

    class Rule(models.TextChoices):
        UNANIMOUS = "unanimous", _("Every co-sponsor must approve")
        NO_OBJECTION = "no_objection", _("Takes effect unless a co-sponsor objects")

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for the co-sponsors")
        ADOPTED = "adopted", _("Agreed")
        STOPPED = "stopped", _("Stopped")
        WITHDRAWN = "withdrawn", _("Withdrawn by the proposer")

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="joint_acts")
    kind = models.CharField(max_length=40)
    # The object the act is about (e.g. a letter campaign), 0 when it is the campaign itself.
    subject_id = models.PositiveBigIntegerField(default=0)
    rule = models.CharField(max_length=12, choices=Rule.choices)
    payload = models.JSONField(default=dict, blank=True)
    description_en = models.CharField(max_length=1000)
    description_ru = models.CharField(max_length=1000)
    proposed_by = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    proposed_by_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    proposed_at = models.DateTimeField(default=timezone.now)
    # NO_OBJECTION only: when silence counts as consent.
    due_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    settled_at = models.DateTimeField(null=True, blank=True)
    note = models.CharField(max_length=500, blank=True)  # why it stopped, if it did

    class Meta:
        ordering = ["-proposed_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "kind", "subject_id"],
                condition=models.Q(status="pending"),
                name="one_pending_act_per_subject",
            ),
            models.CheckConstraint(
                condition=~models.Q(rule="no_objection") | models.Q(due_at__isnull=False),
                name="no_objection_act_has_due_time",
            ),
        ]
        indexes = [models.Index(fields=["status", "due_at"], name="joint_act_due")]

    def __str__(self) -> str:
        return self.description

    @property
    def description(self) -> str:
        return _localized(self, "description")

    @property
    def is_pending(self) -> bool:
        return self.status == self.Status.PENDING


class JointActAnswer(models.Model):
    """One co-sponsor's answer to a joint act, given by one of its admins; changeable until
    the act is settled (earlier answers are kept in ``earlier`` for the public history)."""

    class Answer(models.TextChoices):
        APPROVE = "approve", _("Agrees")
        OBJECT = "object", _("Objects")

    act = models.ForeignKey(JointAct, on_delete=models.CASCADE, related_name="answers")
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    answer = models.CharField(max_length=8, choices=Answer.choices)
    reason = models.TextField(max_length=1000, blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    answered_at = models.DateTimeField(default=timezone.now)
    earlier = models.JSONField(default=list, blank=True)  # [{answer, reason, at}]

    class Meta:
        ordering = [Lower("organization__name")]
        constraints = [
            models.UniqueConstraint(
                fields=["act", "organization"], name="one_answer_per_organization"
            ),
            models.CheckConstraint(
                condition=~models.Q(answer="object") | ~models.Q(reason=""),
                name="objection_has_reason",
            ),
        ]
