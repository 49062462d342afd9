"""Campaign-update fan-out: how fast an adopted update becomes outbox rows, and what DKIM adds.

    .venv/bin/python bench/update_fanout.py [--signers 20000] [--repeat 300]
    .venv/bin/python bench/update_fanout.py --send [--signers 3000] [--dkim] [--floor-seconds 10]

1. DKIM: an update mail (text and HTML, both unsubscribe headers) is rendered to bytes as the
   SMTP backend does, ``--repeat`` times without a key and with a 2048-bit RSA key; the median
   per message is printed. This is what signing adds to every send of outbox_send.
2. Fan-out: a throwaway database (coalition_bench_updates) gets ``--signers`` confirmed
   signatures that asked for updates, with production settings (encryption on); then
   ``updates.services.update_fanout`` queues the update's rows (render per language, one list
   token per mailbox, the suppression check, an encrypted outbox row each) and the rate is
   printed. Sending those rows is the same bulk-lane path bench/fanout.py measures for letters
   (relay -> broker -> outbox_send -> SMTP), plus the DKIM cost of part 1.
3. ``--send`` (instead of 1 and 2): the campaign gets a second co-sponsor through the services,
   ``--signers`` (3,000 by default) confirmed signatures that asked for updates; a real
   ``celery worker --beat`` with 2 prefork processes (bench/fanout.py's worker_start, Redis db
   13) runs; then the update is drafted and proposed by one co-sponsor and approved by the
   other (updates.services, campaigns.joint), so its adoption starts the real fan-out task, and
   every row goes through the bulk lane to aiosmtpd on loopback (bench/fanout.py's Inbox).
   COALITION_UPDATES_PER_MINUTE is turned up to 10**9 so that pacing does not throttle the run
   (the output says so). Printed: updates/s from adoption to the last message received, the
   CPU per update of the workers (and of PostgreSQL, Redis, this process), duplicates and
   unsent (both must be 0; the exit status is 1 otherwise), and the floor of bench/fanout.py
   (``smtp_floor``: 2 processes handing the same message bytes to the same server, a new
   connection each, no Django, database or broker) measured in the same run, with the ratio.
   ``--dkim`` signs every message with a throwaway 2048-bit key.

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
from typing import Any

import _common as common

ROOT = Path(__file__).resolve().parent.parent
DB_NAME = "coalition_bench_updates"
QUEUE_SIGNERS = 20_000
SEND_SIGNERS = 3_000
SEND_REDIS_URL = "redis://127.0.0.1:6379/13"  # the test run and the other benches use others
# Pacing turned up so far that every update is due at once: the bench measures the pipeline,
# not the COALITION_UPDATES_PER_MINUTE throttle (600 a minute by default).
UNPACED_PER_MINUTE = 1_000_000_000
WORKER = "prefork:2:2000"  # fanout.py's default: 2 worker processes, relay batch 2000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--signers",
        type=int,
        help=f"default {QUEUE_SIGNERS:,}, with --send {SEND_SIGNERS:,}",
    )
    parser.add_argument("--repeat", type=int, default=300)
    parser.add_argument(
        "--send",
        action="store_true",
        help="adopt an update and send it through 2 worker processes to loopback SMTP",
    )
    parser.add_argument("--dkim", action="store_true", help="with --send: sign every message")
    parser.add_argument("--floor-seconds", type=float, default=10.0)
    parser.add_argument("--timeout", type=float, default=600.0, help="with --send: seconds")
    args = parser.parse_args()
    if args.send:
        return send_main(
            signers=args.signers or SEND_SIGNERS,
            dkim=args.dkim,
            floor_seconds=args.floor_seconds,
            timeout=args.timeout,
        )
    args.signers = args.signers or QUEUE_SIGNERS

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
    from outbox.services import email_message

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
        return bytes(email_message(mail).message(policy=email.policy.SMTP).as_bytes())

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


def campaign_with_signers(count: int, *, cosponsors: int = 1) -> tuple[Any, list[Any], list[Any]]:
    """A campaign (the first ``cosponsors`` organizations co-sponsoring it, through the
    services) whose petition has ``count`` confirmed signatures that asked for updates, half
    signed in Russian; returns (campaign, organizations, their admins)."""
    from django.utils import timezone

    from campaigns import services as campaign_services
    from campaigns import signing
    from campaigns.models import IssueArea, Signature
    from tests.factories import MemberOrganizationFactory, make_admin

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
    for index in range(1, cosponsors):
        invitation = campaign_services.cosponsor_invite(
            campaign=campaign, organization=orgs[0], invitee=orgs[index], user=admins[0]
        )
        campaign_services.cosponsor_respond(
            cosponsorship=invitation, user=admins[index], accept=True
        )
    if cosponsors > 1:
        campaign_services.campaign_go_live(campaign=campaign, organization=orgs[1], user=admins[1])
        campaign.refresh_from_db()
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
    print(f"  {count} signatures inserted in {time.perf_counter() - started:.1f} s", flush=True)
    return campaign, orgs, admins


def fanout_part(count: int) -> None:
    from django.utils import timezone

    from outbox.models import Email
    from updates import services
    from updates.models import CampaignUpdate

    campaign, orgs, _admins = campaign_with_signers(count)
    now = timezone.now()
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


# --- sending: an adopted update through 2 worker processes to SMTP on loopback ---------------


def send_main(*, signers: int, dkim: bool, floor_seconds: float, timeout: float) -> int:
    import shutil
    import signal

    import fanout
    import redis

    signal.signal(signal.SIGTERM, fanout._terminate)
    workdir = Path(tempfile.mkdtemp(prefix="bench-updates-"))
    smtp_port = common.free_port()
    extra = {
        "REDIS_URL": SEND_REDIS_URL,
        "COALITION_TESTING": "1",  # as fanout.py: loopback hosts only
        "COALITION_CACHE_PREFIX": "bench-updates",
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(smtp_port),
        "COALITION_UPDATES_PER_MINUTE": str(UNPACED_PER_MINUTE),
    }
    if dkim:
        extra |= _dkim_env()
    env = common.bench_env(db_name=DB_NAME, var_dir=workdir / "var", extra=extra)
    broker = redis.Redis.from_url(SEND_REDIS_URL)
    inbox = fanout.Inbox()
    controller = None
    worker = None
    variant = fanout.Variant.parse(WORKER)
    print(
        f"update send benchmark: {signers:,} signers who chose updates, worker {variant} "
        f"(celery worker --beat, as fanout.py starts it), SMTP (aiosmtpd) on loopback; "
        f"DKIM {'on (2048-bit RSA)' if dkim else 'off'}.\n"
        f"PACING TURNED UP: COALITION_UPDATES_PER_MINUTE={UNPACED_PER_MINUTE:,} (600 by "
        f"default), so every row is due at once: this measures the pipeline, not the throttle.\n"
        f"machine: {os.cpu_count()} CPUs, load average "
        f"{' / '.join(f'{x:.2f}' for x in os.getloadavg())} at start; PostgreSQL "
        f"({DB_NAME}), Redis (db 13), SMTP server and worker all on this machine.",
        flush=True,
    )
    ok = False
    try:
        broker.flushdb()
        common.database_recreate(DB_NAME)
        common.manage(env, "migrate", "--noinput")
        fanout.django_setup(env)
        campaign, orgs, admins = campaign_with_signers(signers, cosponsors=2)
        controller = fanout.smtp_start(inbox, smtp_port)
        worker = fanout.worker_start(env, variant, workdir)
        pids = _worker_ready(worker)
        print(f"  worker ready: {len(pids)} processes (main + {len(pids) - 1} children)")
        result = _send_run(
            campaign=campaign, orgs=orgs, admins=admins, signers=signers, inbox=inbox,
            worker=worker, pids=pids, timeout=timeout, workdir=workdir,
        )  # fmt: skip
        fanout.worker_stop(worker)
        sample = _sample_message()
        floor = fanout.smtp_floor(inbox, smtp_port, message=sample, seconds=floor_seconds)
        _send_print(result, floor, signers=signers, sample=sample)
        ok = result["complete"] and not result["duplicates"] and not result["unsent"]
    finally:
        if worker is not None:
            fanout.worker_stop(worker)
        if controller is not None:
            controller.stop()
        from django.db import connections

        connections.close_all()
        common.database_drop(DB_NAME)
        broker.flushdb()
        shutil.rmtree(workdir, ignore_errors=True)
        print("cleaned up: worker stopped, SMTP stopped, database dropped, Redis db 13 flushed")
    return 0 if ok else 1


def _dkim_env() -> dict[str, str]:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    ).decode()
    return {
        "COALITION_DKIM_DOMAIN": "coalition.example",
        "COALITION_DKIM_SELECTOR": "bench",
        "COALITION_DKIM_PRIVATE_KEY": pem,
    }


def _worker_ready(worker: Any) -> list[int]:
    """Wait until the worker answers a ping and its 2 children exist; its process ids."""
    from coalition.celery import app

    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if worker.poll() is not None:
            raise SystemExit(f"the worker exited ({worker.returncode})")
        if app.control.ping(timeout=1.0) and len(common.children(worker.pid)) >= 2:
            return [worker.pid, *common.children(worker.pid)]
        time.sleep(0.5)
    raise SystemExit("the worker did not answer a ping within 90 s")


def _send_run(
    *,
    campaign: Any,
    orgs: list[Any],
    admins: list[Any],
    signers: int,
    inbox: Any,
    worker: Any,
    pids: list[int],
    timeout: float,
    workdir: Path,
) -> dict[str, Any]:
    import fanout

    from campaigns import joint
    from campaigns.models import JointAct
    from outbox.models import Email
    from updates import services

    # The mail of the setup (the co-sponsor invitation) leaves first, so that only the update's
    # rows are in flight while counting.
    deadline = time.monotonic() + 60
    while Email.objects.exclude(status=Email.Status.SENT).exists():
        if time.monotonic() > deadline:
            raise SystemExit("the setup's mail was not sent within 60 s")
        time.sleep(0.5)
    update = services.update_draft(
        campaign=campaign, organization=orgs[0], user=admins[0],
        subject_en="The Commission replied", subject_ru="Комиссия ответила",
        body_en="They **agreed** to meet us on 12 December. " * 20,
        body_ru="Они **согласились** встретиться с нами 12 декабря. " * 20,
    )  # fmt: skip
    meter = fanout.CpuMeter(db_name=DB_NAME)
    meter.begin(pids)
    inbox.reset()
    adopted_at = time.time()
    act = services.update_propose(update=update, organization=orgs[0], user=admins[0])
    joint.joint_act_answer(act=act, organization=orgs[1], user=admins[1], approve=True)
    act.refresh_from_db()
    assert act.status == JointAct.Status.ADOPTED, act.status
    print(f"  update proposed by {orgs[0].name}, approved by {orgs[1].name}: adopted", flush=True)

    complete, stopped = False, ""
    queued_at = None
    next_progress = time.monotonic() + 10
    stop_at = time.monotonic() + timeout
    while True:
        time.sleep(0.5)
        rows = Email.objects.filter(kind=services.MAIL_KIND)
        sent = rows.filter(status=Email.Status.SENT).count()
        if queued_at is None and rows.count() >= signers:
            queued_at = time.time()
        if time.monotonic() >= next_progress:
            print(
                f"  +{time.time() - adopted_at:5.0f} s  {rows.count():>7,} rows queued  "
                f"{sent:>7,} sent  {inbox.count():>7,} received",
                flush=True,
            )
            next_progress += 10
        if sent >= signers:
            complete = True
            break
        if worker.poll() is not None:
            stopped = f"the worker exited ({worker.returncode})"
            break
        if time.monotonic() >= stop_at:
            stopped = f"stopped after {timeout:.0f} s"
            break
    pids_now = [worker.pid, *common.children(worker.pid)]
    meter.end(pids_now)
    fanout.worker_stop(worker)
    meter.database_end()
    if not complete:
        log_tail = (workdir / "worker.log").read_text(errors="replace")[-3000:]
        print(f"  INCOMPLETE: {stopped}. End of the worker's log:\n{log_tail}", flush=True)

    rows = list(
        Email.objects.filter(kind=services.MAIL_KIND).values_list("message_id", "to", "status")
    )
    with inbox.lock:
        arrived = dict(inbox.arrived)
        duplicates, messages = inbox.duplicates, inbox.messages
    times = sorted(arrived[m] for m, _to, _status in rows if m in arrived)
    recipients = [to for _m, to, _status in rows]
    update.refresh_from_db()
    last = times[-1] if times else float("nan")
    return {
        "complete": complete,
        "stopped": stopped,
        "rows": len(rows),
        "received": len(times),
        "first": times[0] - adopted_at if times else float("nan"),
        "queued": (queued_at - adopted_at) if queued_at else float("nan"),
        "last": last - adopted_at,
        "rate": len(times) / max(last - adopted_at, 1e-9) if times else 0.0,
        "duplicates": duplicates + len(recipients) - len(set(recipients)),
        "unsent": signers
        - len(times)
        + sum(1 for _m, _to, status in rows if status != Email.Status.SENT),
        "messages": messages,
        "update_status": update.status,
        "pids_same": sorted(pids) == sorted(pids_now),
        "cpu": {**meter.spent, "wall": meter.wall},
        "database": meter.db_spent,
    }


def _sample_message() -> bytes:
    """One update mail as the workers sent it (headers, text and HTML parts), for the floor."""
    import email.policy

    from outbox.models import Email
    from outbox.services import email_message
    from updates import services

    mail = Email.objects.filter(kind=services.MAIL_KIND).order_by("pk").first()
    assert mail is not None
    return bytes(email_message(mail).message(policy=email.policy.SMTP).as_bytes())


def _send_print(result: dict[str, Any], floor: Any, *, signers: int, sample: bytes) -> None:
    received = max(result["received"], 1)
    cpu = result["cpu"]
    worker_ms = 1000 * cpu["worker"] / received
    status = "complete" if result["complete"] else f"INCOMPLETE ({result['stopped']})"
    lines = [
        ("run", status),
        ("update rows queued / received by SMTP", f"{result['rows']:,} / {result['received']:,}"),
        ("adoption -> all rows queued", f"{result['queued']:.1f} s"),
        ("adoption -> first / last received", f"{result['first']:.1f} / {result['last']:.1f} s"),
        ("updates/s (adoption to last received)", f"{result['rate']:.1f}"),
        ("duplicates (Message-ID or mailbox; must be 0)", f"{result['duplicates']:,}"),
        ("unsent (must be 0)", f"{result['unsent']:,}"),
        ("the update's status at the end", result["update_status"]),
        (
            "CPU ms per update",
            ", ".join(
                f"{k} {1000 * v / received:.2f}"
                for k, v in cpu.items()
                if k not in {"machine", "wall"}
            ),
        ),
        (
            f"cores busy on average (of {os.cpu_count()})",
            ", ".join(
                f"{k} {v / max(cpu['wall'], 1e-9):.2f}" for k, v in cpu.items() if k != "wall"
            ),
        ),
    ]
    if result["database"]:
        db = result["database"]
        lines.append(
            (
                "PostgreSQL sessions / commits per update",
                f"{db['sessions'] / received:.3f} / {db['commits'] / received:.2f}",
            )
        )
    if not result["pids_same"]:
        lines.append(("WARNING", "a worker child was replaced: its CPU is not counted"))
    floor_ok = floor.received == floor.sent
    lines += [
        (
            f"floor: {floor.processes} processes, bare SMTP",
            f"{floor.sent:,} sends of the same {len(sample):,}-byte mail in {floor.wall:.1f} s = "
            f"{floor.rate:.1f}/s, CPU {floor.cpu_ms:.2f} ms per message"
            + ("" if floor_ok else f" (server counted {floor.received:,}!)"),
        ),
        ("RATIO updates/s ÷ floor/s", f"{result['rate'] / floor.rate:.3f}"),
        ("ratio worker CPU per update ÷ floor CPU", f"{worker_ms / floor.cpu_ms:.1f}x"),
    ]
    print(f"\n-- {signers:,} updates, 2 worker processes, SMTP on loopback")
    for label, value in lines:
        print(f"  {label:<46} {value}")


if __name__ == "__main__":
    raise SystemExit(main())
