"""Campaign-update fan-out: how fast an adopted update becomes outbox rows, and what DKIM adds.

    .venv/bin/python bench/update_fanout.py [--signers 20000] [--repeat 300]

1. DKIM: an update mail (text and HTML, both unsubscribe headers) is rendered to bytes as the
   SMTP backend does, ``--repeat`` times without a key and with a 2048-bit RSA key; the median
   per message is printed. This is what signing adds to every send of outbox_send.
2. Fan-out: a throwaway database (coalition_bench_updates) gets ``--signers`` confirmed
   signatures that asked for updates, with production settings (encryption on); then
   ``updates.services.update_fanout`` queues the update's rows (render per language, one list
   token per mailbox, the suppression check, an encrypted outbox row each) and the rate is
   printed. Sending those rows is the same bulk-lane path bench/fanout.py measures for letters
   (relay -> broker -> outbox_send -> SMTP), plus the DKIM cost of part 1.

The database is dropped at the end. Everything runs on 127.0.0.1, on a shared machine.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import _common as common

ROOT = Path(__file__).resolve().parent.parent
DB_NAME = "coalition_bench_updates"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--signers", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=300)
    args = parser.parse_args()

    env = common.bench_env(db_name=DB_NAME, var_dir=Path(tempfile.mkdtemp()))
    common.database_recreate(DB_NAME)
    try:
        common.manage(env, "migrate", "--noinput")
        os.environ.update(env)
        sys.path.insert(0, str(ROOT))
        import django

        django.setup()
        dkim_part(args.repeat)
        fanout_part(args.signers)
    finally:
        from django.db import connections

        connections.close_all()
        common.database_drop(DB_NAME)
    return 0


def _median_ms(run: object, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()  # type: ignore[operator]
        times.append(time.perf_counter() - started)
    return 1000 * statistics.median(times)


def dkim_part(repeat: int) -> None:
    import email.policy

    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from django.conf import settings

    from outbox.models import Email
    from outbox.tasks import _message

    mail = Email(
        kind="updates.update",
        to="anna@example.org",
        from_email=settings.DEFAULT_FROM_EMAIL,
        subject="Комиссия ответила на нашу петицию",
        body_text="Текст новости. " * 80,
        body_html="<p>" + "Текст новости. " * 80 + "</p>",
        message_id="<bench@coalition.example>",
        list_scope="campaign:1",
        list_token="x" * 24,
    )

    def render() -> bytes:
        return bytes(_message(mail).message(policy=email.policy.SMTP).as_bytes())

    plain = _median_ms(render, repeat)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    settings.DKIM_PRIVATE_KEY = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    ).decode()
    settings.DKIM_DOMAIN, settings.DKIM_SELECTOR = "coalition.example", "bench"
    signed = _median_ms(render, repeat)
    settings.DKIM_PRIVATE_KEY = ""
    print(
        f"DKIM: message rendered in {plain:.2f} ms unsigned, {signed:.2f} ms signed "
        f"(+{signed - plain:.2f} ms per message, median of {repeat})"
    )


def fanout_part(count: int) -> None:
    from django.utils import timezone

    from campaigns import services as campaign_services
    from campaigns import signing
    from campaigns.models import IssueArea, Signature
    from outbox.models import Email
    from tests.factories import MemberOrganizationFactory, make_admin
    from updates import services
    from updates.models import CampaignUpdate

    orgs = [MemberOrganizationFactory(name=n) for n in ("Alpha Aid", "Beta Bridge")]
    admins = [make_admin(o, mfa=False) for o in orgs]
    area, _created = IssueArea.objects.get_or_create(
        slug="bench", defaults={"name_en": "Bench", "name_ru": "Бенч"}
    )
    campaign = campaign_services.campaign_create(
        organization=orgs[0], user=admins[0], issue_area=area, title_en="Bench",
        title_ru="Бенч", summary_en="s", summary_ru="s", body_en="b",
    )  # fmt: skip
    petition = campaign_services.petition_create(
        campaign=campaign, organization=orgs[0], user=admins[0], title_en="Bench",
        text_en="t", addressed_to="EU", goal=1000,
    )  # fmt: skip
    now = timezone.now()
    started = time.perf_counter()
    batch = []
    for i in range(count):
        address = f"signer{i}@example.org"
        batch.append(
            Signature(
                petition=petition, name=f"Signer {i}", email=address,
                email_digest=signing.email_digest(address), country="DE",
                status=Signature.Status.CONFIRMED, confirmed_at=now, wants_updates=True,
                language="ru" if i % 2 else "en",
            )
        )  # fmt: skip
        if len(batch) == 2000:
            Signature.objects.bulk_create(batch)
            batch = []
    Signature.objects.bulk_create(batch)
    print(f"  {count} signatures inserted in {time.perf_counter() - started:.1f} s")
    update = CampaignUpdate.objects.create(
        campaign=campaign, drafted_by=orgs[0], subject_en="News", body_en="**Big** news.",
        subject_ru="Новости", body_ru="**Большие** новости.",
        status=CampaignUpdate.Status.SENDING, sent_at=now,
    )  # fmt: skip
    started = time.perf_counter()
    queued = services.update_fanout(update_id=update.pk)
    elapsed = time.perf_counter() - started
    rows = Email.objects.filter(kind=services.MAIL_KIND).count()
    assert rows == count, (rows, count)
    print(
        f"fan-out: {queued} signatures -> {rows} outbox rows in {elapsed:.1f} s "
        f"= {rows / elapsed:.0f} rows/s (one process, batches of {services.FANOUT_BATCH})"
    )


if __name__ == "__main__":
    raise SystemExit(main())
