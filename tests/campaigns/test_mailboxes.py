"""Issue 10, item 4: one mailbox signs once, cannot be mail-bombed, and is erased whole."""

from __future__ import annotations

import re
from datetime import timedelta
from importlib import import_module

import pytest
from django.apps import apps
from django.utils import timezone

from campaigns import services
from campaigns.models import Petition, Signature, SignatureCountDelta
from campaigns.services import counting, signatures
from campaigns.signing import email_digest, email_normalize
from foundation.mailbox import domain_is_disposable
from foundation.ratelimit import keyed_hash
from outbox import mailbox_cap
from outbox.models import Email
from outreach.models import Letter
from privacy import services as privacy
from privacy.models import DigestAlias
from tests.campaigns.signing_helpers import BODY, api, fold, open_petitions, page
from tests.outbox.helpers import sent

pytestmark = pytest.mark.django_db


def _signer_mail_to(address):
    return Email.objects.filter(
        recipient_digest=email_digest(address), kind__in=services.SIGNER_MAIL_KINDS
    )


# --- item 4: one mailbox, one signature ------------------------------------------------------

REFUSED = [
    ('"victimperson"@gmail.com', "quotation marks"),
    ('"v\\ictimperson"@gmail.com', "quotation marks"),
    ("v\\ictimperson@gmail.com", "valid email address"),  # Django's own check refuses it
    ("x@[142.250.1.1]", "IP address"),
    ("a@sub.mailinator.com", "disposable"),
    ("a@deep.sub.mailinator.com", "disposable"),
    ("a@MAILINATOR.com", "disposable"),
]


@pytest.mark.parametrize(("email", "message"), REFUSED)
def test_api_refuses_quoted_literal_and_disposable_addresses(
    client, live, pow_solution, email, message
):
    response = api(client, live.petition, {**BODY, "email": email, "altcha": pow_solution()})
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    errors = response.json()["errors"]
    assert set(errors) == {"email"}
    assert message in errors["email"][0]
    assert not Signature.objects.exists()
    assert not Email.objects.filter(kind__in=services.SIGNER_MAIL_KINDS).exists()


@pytest.mark.parametrize(("email", "message"), REFUSED)
def test_sign_page_refuses_them_with_a_field_error(client, live, email, message):
    response = page(client, live.petition, {**BODY, "email": email})
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Signature.objects.exists()
    assert not Email.objects.filter(kind__in=services.SIGNER_MAIL_KINDS).exists()


@pytest.mark.parametrize(
    "spellings",
    [
        # Gmail: dots, +tags, googlemail.com
        [
            "Victim.Person+x@gmail.com",
            "victimperson@googlemail.com",
            "v.i.c.t.i.m.person@gmail.com",
        ],
        # Yandex: seven domains, one mailbox; "-" is "."
        [
            "ivan.petrov@yandex.ru",
            "ivan-petrov@ya.ru",
            "Ivan.Petrov@yandex.com",
            "ivan-petrov@yandex.by",
            "ivan.petrov+eu@yandex.kz",
            "ivan.petrov@yandex.ua",
            "ivan-petrov@narod.ru",
        ],
        # Proton: four domains; dots, hyphens and underscores ignored
        ["anna.k@proton.me", "annak@protonmail.com", "anna_k@protonmail.ch", "anna-k+x@pm.me"],
        # iCloud: three domains
        ["olga@icloud.com", "olga@me.com", "Olga+petition@mac.com"],
        # Outlook: +tags only
        ["pavel@outlook.com", "pavel+eu@outlook.com"],
    ],
)
def test_every_alias_of_one_mailbox_signs_once(client, live, pow_solution, spellings):
    for n, email in enumerate(spellings):
        body = {**BODY, "email": email, "altcha": pow_solution()}
        assert api(client, live.petition, body, ip=f"10.0.1.{n}").status_code == 202
    assert Signature.objects.count() == 1
    assert len({email_normalize(e) for e in spellings}) == 1


def test_separate_mailboxes_stay_separate():
    # Mail.ru's domains and Microsoft's are separate namespaces (foundation/mailbox.py).
    assert (
        len(
            {
                email_normalize(f"ivan@{d}")
                for d in ("mail.ru", "bk.ru", "inbox.ru", "list.ru", "internet.ru")
            }
        )
        == 5
    )
    assert (
        len({email_normalize(f"ivan@{d}") for d in ("outlook.com", "hotmail.com", "live.com")}) == 3
    )
    # Dots matter outside Gmail and Proton; Yandex keeps them (as dots)
    assert email_normalize("ivan.petrov@example.org") != email_normalize("ivanpetrov@example.org")
    assert email_normalize("ivan.petrov@yandex.ru") != email_normalize("ivanpetrov@yandex.ru")


def test_disposable_domains_match_by_suffix_only():
    assert domain_is_disposable("mailinator.com")
    assert domain_is_disposable("x.y.mailinator.com")
    assert not domain_is_disposable("mailinator.com.example.org")
    assert not domain_is_disposable("gmail.com")


def test_confirmation_mail_per_mailbox_is_capped_acrosspetitions(
    client, live, pow_solution, settings
):
    settings.SIGNATURE_MAILS_PER_MAILBOX = 3
    petitions = open_petitions(live, 5)
    spellings = ["victimperson@gmail.com", "Victim.Person@gmail.com", "victim.person+1@gmail.com"]
    for n, petition in enumerate(petitions):
        body = {**BODY, "email": spellings[n % 3], "altcha": pow_solution()}
        response = api(client, petition, body, ip=f"10.0.2.{n}")
        # Over the cap the answer is the same: nobody learns that the mailbox had its share.
        assert (response.status_code, response.json()) == (202, {"status": "confirmation_sent"})
    assert _signer_mail_to("victimperson@gmail.com").count() == 3
    assert Signature.objects.count() == 3  # nothing written for the capped attempts
    # the page is capped the same way (same service), and so are repeats and reminders
    assert (
        page(client, petitions[4], {**BODY, "email": "victimperson@gmail.com"}).status_code == 302
    )
    signature = Signature.objects.first()
    Signature.objects.update(last_mailed_at=timezone.now() - timedelta(days=3))
    services.signatures_remind_and_expire()
    assert _signer_mail_to("victimperson@gmail.com").count() == 3
    signature.refresh_from_db()
    assert signature.reminders_sent == 0
    # another mailbox is not held back
    body = {**BODY, "email": "someone.else@gmail.com", "altcha": pow_solution()}
    assert api(client, petitions[4], body, ip="10.0.2.99").status_code == 202
    assert _signer_mail_to("someone.else@gmail.com").count() == 1


def test_the_cap_counts_only_signer_mail_of_the_last_day_to_that_mailbox(settings):
    """The cap's narrow query (outbox.selectors.emails_to_mailbox_reach) counts what the cap
    is about and nothing else: other kinds, older mail and other mailboxes do not hold it."""
    from outbox.selectors import emails_to_mailbox_reach
    from outbox.services import email_enqueue

    settings.SIGNATURE_MAILS_PER_MAILBOX = 2
    digest = email_digest("victimperson@gmail.com")
    since = timezone.now() - timedelta(days=1)

    def reached() -> bool:
        return emails_to_mailbox_reach(
            digest=digest, kinds=services.SIGNER_MAIL_KINDS, since=since, cap=2
        )

    for kind, to in [
        ("outreach.letter", "victimperson@gmail.com"),
        ("campaigns.confirm", "someone.else@gmail.com"),
    ] * 3:
        email_enqueue(kind=kind, to=to, subject="s", body_text="b")
    email_enqueue(
        kind="campaigns.confirm", to="Victim.Person@gmail.com", subject="s", body_text="b"
    )
    Email.objects.filter(recipient_digest=digest, kind="campaigns.confirm").update(
        created_at=timezone.now() - timedelta(days=1, minutes=1)
    )
    assert not reached()
    email_enqueue(
        kind="campaigns.reminder", to="victim.person+x@gmail.com", subject="s", body_text="b"
    )
    assert not reached()
    email_enqueue(
        kind="campaigns.already_signed", to="victimperson@gmail.com", subject="s", body_text="b"
    )
    assert reached()


def test_erasure_deletes_mail_to_every_spelling_of_the_mailbox(client, live):
    petitions = open_petitions(live, 2)
    services.signature_create(
        petition=petitions[0], name="Victim Person", email="Victim.Person+x@gmail.com", country="DE"
    )
    services.signature_create(
        petition=petitions[1],
        name="Victim Person",
        email="victimperson@googlemail.com",
        country="DE",
    )
    other = services.signature_create(
        petition=petitions[1], name="Other Person", email="other@gmail.com", country="DE"
    )
    signer_mail = Email.objects.filter(kind__in=services.SIGNER_MAIL_KINDS)
    assert signer_mail.count() == 3
    first = sent(signer_mail.order_by("pk").first())  # rendered by the worker
    erase = re.search(r"http://testserver(/privacy/erase/\S+/)", first.body_text).group(1)
    assert client.post(erase).status_code == 200
    assert list(Signature.objects.all()) == [other]
    # the mail to victimperson@googlemail.com went too, not only the spelling the link came from
    assert [e.to for e in signer_mail.all()] == ["other@gmail.com"]


rekey = import_module("privacy.migrations.0001_mailbox_digests").rekey


def _old_digest(email):
    """The digest before issue 10: +tags dropped everywhere, dots only for Gmail (none here)."""
    local, _at, domain = email.lower().rpartition("@")
    return keyed_hash("email:" + local.split("+", 1)[0] + "@" + domain)


def _old_row(live, email, *, confirmed_at=None):
    signature = Signature.objects.create(
        petition=live.petition,
        name="Ivan",
        email=email,
        email_digest=_old_digest(email),
        country="LV",
        status="confirmed" if confirmed_at else "pending",
        confirmed_at=confirmed_at,
    )
    if confirmed_at:
        counting._count(signature, SignatureCountDelta.Kind.CONFIRMED, +1, at=confirmed_at)
    return signature


def test_rekey_migration_merges_old_duplicates_keeps_the_confirmed_and_old_links_work(live):
    """privacy/migrations/0001_mailbox_digests.py on rows written under the old normalization."""
    now = timezone.now()
    _old_row(live, "ivan.petrov@yandex.ru", confirmed_at=now)
    earlier = _old_row(live, "ivan-petrov@ya.ru", confirmed_at=now - timedelta(hours=2))
    pending = _old_row(live, '"ivan.petrov"@yandex.com')
    plain = _old_row(live, "anna@example.org", confirmed_at=now)
    Email.objects.create(
        kind="campaigns.confirm",
        to="Ivan-Petrov@narod.ru",
        subject="s",
        body_text="b",
        from_email="f@example.org",
        message_id="<m1@x>",
    )
    fold()
    assert Petition.objects.get().confirmed_count == 3

    rekey(apps, None)
    fold()

    assert set(Signature.objects.values_list("pk", flat=True)) == {earlier.pk, plain.pk}
    assert Signature.objects.get(pk=earlier.pk).email_digest == email_digest(
        "ivan.petrov@yandex.ru"
    )
    assert Petition.objects.get().confirmed_count == 2  # the duplicate was uncounted
    mail = Email.objects.get(message_id="<m1@x>")
    assert mail.recipient_digest == email_digest("ivan.petrov@yandex.ru")
    # ya.ru and the quoted spelling changed digest; yandex.ru and example.org did not
    assert DigestAlias.objects.count() == 2
    # an erase link mailed to the ya.ru spelling before the change still erases everything
    assert privacy.signer_erase_by_digest(digest=_old_digest(earlier.email)) == 1
    assert list(Signature.objects.values_list("pk", flat=True)) == [plain.pk]
    assert not Email.objects.filter(message_id="<m1@x>").exists()
    assert pending.pk not in Signature.objects.values_list("pk", flat=True)
    rekey(apps, None)  # safe to run again
    assert Signature.objects.count() == 1


def test_rekey_migration_moves_letters_to_the_new_digest_without_merging_two(
    live, letters, contacts
):
    """Two letters to one target from two old spellings of one mailbox: both records stay."""
    rows = [
        _old_row(live, e, confirmed_at=timezone.now()) for e in ("ivan.p@ya.ru", "ivan-p@yandex.by")
    ]
    for n, signature in enumerate(rows):
        Letter.objects.create(
            letter_campaign=letters,
            signature=signature,
            signer_digest=signature.email_digest,
            contact=contacts[0],
            email=Email.objects.create(
                kind="outreach.letter", to=contacts[0].email, subject="s", body_text="b",
                from_email="f@example.org", message_id=f"<letter{n}@x>",
            ),
        )  # fmt: skip
    rekey(apps, None)
    digests = sorted(Letter.objects.order_by("pk").values_list("signer_digest", flat=True))
    assert email_digest("ivan.p@yandex.ru") in digests  # the first letter follows its signer
    assert len(set(digests)) == 2  # the second keeps its old digest rather than break the rule
    assert Signature.objects.count() == 1


def test_one_daily_cap_covers_the_mail_of_every_public_form_to_a_mailbox(live, settings):
    """Signing, case reports and the agenda each mail the address typed into them; with a cap
    per form one inbox got a cap's worth from each. One list of kinds, one lock, one setting
    (outbox/mailbox_cap.py): whichever forms are used, the mailbox gets the setting's worth."""
    from datetime import date

    from agenda import services as agenda
    from evidence import services as evidence
    from outbox.mailbox_cap import PUBLIC_FORM_MAIL_KINDS

    settings.SIGNATURE_MAILS_PER_MAILBOX = 3
    area = live.petition.campaign.issue_area
    petitions = open_petitions(live, 2)
    spellings = iter(
        [
            "victimperson@gmail.com",
            "Victim.Person@gmail.com",
            "victimperson+a@gmail.com",
            "victim.person+b@googlemail.com",
            "VictimPerson@gmail.com",
            "victimperson+c@gmail.com",
        ]
    )

    def sign(petition: Petition) -> object:
        return services.signature_create(
            petition=petition, name="Victim Person", email=next(spellings), country="DE"
        )

    def report() -> object:
        return evidence.report_create(
            issue_area=area, email=next(spellings), country="LV", month=date(2025, 3, 1),
            choices={}, others={"event": "Account frozen"}, documents=[],
        )  # fmt: skip

    def propose() -> object:
        return agenda.proposal_create(
            title="Banks close accounts", description="Without a reason.", issue_area=area,
            countries=["DE"], email=next(spellings),
        )  # fmt: skip

    # One mail from each form: the mailbox's whole budget for the day.
    assert None not in (propose(), report(), sign(petitions[0]))
    # Each form now sends nothing more, and answers as if it had (None: nothing written).
    assert (sign(petitions[1]), report(), propose()) == (None, None, None)

    mail = Email.objects.filter(recipient_digest=email_digest("victimperson@gmail.com"))
    assert sorted(mail.values_list("kind", flat=True)) == [
        "agenda.proposal_confirm", "campaigns.confirm", "evidence.confirm",
    ]  # fmt: skip
    assert set(mail.values_list("kind", flat=True)) <= set(PUBLIC_FORM_MAIL_KINDS)


def test_every_mail_the_sign_form_can_cause_counts_against_the_mailbox_cap() -> None:
    """The signer's mail is queued as campaigns.<template> (services._mail_signer): each of
    those kinds must be in the cap's one list, or a form could mail a mailbox past its cap."""
    kinds = {f"campaigns.{template}" for template in signatures._SIGNER_TEMPLATES}
    assert kinds == set(services.SIGNER_MAIL_KINDS)
    assert kinds <= set(mailbox_cap.PUBLIC_FORM_MAIL_KINDS)
