"""Coalition settings: one file, every value from an environment variable.

With no DATABASE_URL / REDIS_URL the project runs embedded: SQLite, Celery tasks run in-process
and outgoing mail is written as files to ``var/mail/``. That is what ``make run`` gives a
newcomer; production sets the variables listed in the README.
"""

from __future__ import annotations

import base64
import hashlib
import math
import os
import re
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP
from django.utils.translation import gettext_lazy as _
from kombu import Queue
from redis.connection import parse_url as redis_parse_url

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("COALITION_VAR_DIR", BASE_DIR / "var"))


# A value we cannot read stops start-up: read as "off", COALITION_REQUIRE_ADMIN_MFA=ture would
# quietly switch a defence off.
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name, "").strip().lower()
    if not value:
        return default
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(
        f"{name}={os.environ[name]!r} is not a yes/no value. Accepted: "
        f"{', '.join(sorted(_TRUE))} (on) or {', '.join(sorted(_FALSE))} (off), "
        "or leave it unset for the default."
    )


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(
            f"{name}={os.environ[name]!r} is not a whole number (e.g. 60), "
            "or leave it unset for the default."
        ) from None


def env_float(name: str, default: float) -> float:
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    try:
        number = float(value)
    except ValueError:
        number = float("nan")
    if not math.isfinite(number):
        raise ImproperlyConfigured(
            f"{name}={os.environ[name]!r} is not a number (e.g. 0.5 or 60), "
            "or leave it unset for the default."
        )
    return number


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name, "")
    if not value.strip():
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


DEBUG = env_bool("DJANGO_DEBUG", False)
# The test suite's mode (fixed development keys, no HTTPS settings), set only explicitly: by
# pytest's configuration (pyproject.toml) and by tests that start their own processes. Never
# guessed from what happens to be imported, so no production process can fall into it.
TESTING = env_bool("COALITION_TESTING", False)

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
if not SECRET_KEY:
    if DEBUG or TESTING:
        # Development only: a fixed key keeps sessions valid across restarts of `make run`.
        SECRET_KEY = "dev-only-insecure-key-do-not-use-in-production-0123456789abcdef"  # noqa: S105
    else:
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY is not set. Production mode (DJANGO_DEBUG off) needs a long random "
            "secret, e.g. from `python -c 'import secrets; print(secrets.token_urlsafe(50))'`. "
            "For local development set DJANGO_DEBUG=1 (make run does)."
        )

# Personal data of signers is encrypted at rest with these Fernet keys, newest first (see
# foundation/crypto.py). Generate one: python -c "from cryptography.fernet import Fernet;
# print(Fernet.generate_key().decode())"
ENCRYPTION_KEYS = env_list("COALITION_ENCRYPTION_KEYS", [])
if not ENCRYPTION_KEYS:
    if DEBUG or TESTING:
        ENCRYPTION_KEYS = [
            base64.urlsafe_b64encode(hashlib.sha256(SECRET_KEY.encode()).digest()).decode()
        ]
    else:
        raise ImproperlyConfigured(
            "COALITION_ENCRYPTION_KEYS is not set. Production mode encrypts signers' personal "
            "data with it; generate a key with: python -c 'from cryptography.fernet import "
            "Fernet; print(Fernet.generate_key().decode())'"
        )

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", ["127.0.0.1", "localhost"] if DEBUG else [])
# The site as a Tor onion service beside the clearnet domain (docs/deploy.md, "Onion service"):
# the onion's host name (56 base32 characters + ".onion"). Pages served under it link within it
# (every link is relative); mail always links to COALITION_SITE_URL. When set, public pages of
# the clearnet site announce it with an Onion-Location header (Tor Browser offers to switch).
ONION_HOST = os.environ.get("COALITION_ONION_HOST", "").strip().lower()
ONION_HOST = ONION_HOST.removeprefix("http://").removeprefix("https://").rstrip("/")
if ONION_HOST:
    if not re.fullmatch(r"[a-z2-7]{56}\.onion", ONION_HOST):
        raise ImproperlyConfigured(
            f"COALITION_ONION_HOST={ONION_HOST!r} is not a v3 onion address (56 letters a-z "
            "and digits 2-7, then .onion): copy it from the tor service's hostname file."
        )
    ALLOWED_HOSTS = [*ALLOWED_HOSTS, ONION_HOST]
# The port of the web service that only the tor daemon connects to (docker/tor/torrc,
# HiddenServicePort 80 web:8001; gunicorn listens on it beside 8000, never published). A request
# counts as come through the onion by the socket it arrived on, which no client chooses: the
# Host header is the client's to write, and a clearnet bot sending the onion's name would skip
# the per-address limits. The onion host on any other port is refused (400). Must be TCP: for a
# unix socket gunicorn takes SERVER_PORT from the Host header.
ONION_PORT = env_int("COALITION_ONION_PORT", 8001)
# Test mode has fixed keys and no HTTPS settings: it must never serve a host the public reaches.
if TESTING and not set(ALLOWED_HOSTS) <= {"127.0.0.1", "localhost", "::1", "[::1]", "testserver"}:
    raise ImproperlyConfigured(
        f"COALITION_TESTING is set while DJANGO_ALLOWED_HOSTS names {', '.join(ALLOWED_HOSTS)}. "
        "Test mode (fixed development keys, no HTTPS) is for the test suite on this machine "
        "only: unset COALITION_TESTING."
    )
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", [])
if ONION_HOST:
    # Plain http is the onion's own transport (end-to-end encrypted by Tor); https in case the
    # operator adds a certificate for it.
    CSRF_TRUSTED_ORIGINS += [f"http://{ONION_HOST}", f"https://{ONION_HOST}"]
SITE_URL = os.environ.get("COALITION_SITE_URL", "http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "members.apps.StaffAdminConfig",  # django.contrib.admin, signed into only via allauth
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_countries",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "coalition",
    "members",
    "campaigns",
    "outreach",
    "results",
    "privacy",
    "outbox",
    "api",
    "webhooks",
    "updates",
    "agenda",
    "evidence",
]

MIDDLEWARE = [
    "coalition.middleware.TextCharsetMiddleware",
    "coalition.middleware.RequestIdMiddleware",
    "coalition.middleware.AccessLogMiddleware",
    "coalition.middleware.PrivacyHeadersMiddleware",
    "coalition.middleware.NulCharacterMiddleware",
    "coalition.middleware.DatabaseUnavailableMiddleware",
    "coalition.middleware.OnionServiceMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "coalition.middleware.OnionServiceRestoreMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "coalition.middleware.QueryLanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "foundation.ratelimit.RateLimitMiddleware",
    "members.middleware.MfaSetupRedirectMiddleware",
]

ROOT_URLCONF = "coalition.urls"
WSGI_APPLICATION = "coalition.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
    {
        # Plain-text mail (outbox.services, updates): the same templates without HTML escaping,
        # or "A & B" reaches a reader as "A &amp; B". Nothing rendered here is ever HTML.
        "NAME": "mail_text",
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {"autoescape": False},
    },
]

# --- Database -------------------------------------------------------------------------------
DATABASE_URL = os.environ.get("DATABASE_URL", "")
if DATABASE_URL:
    DATABASES = {
        # Health checks: a kept connection that died (a PostgreSQL restart) is replaced before
        # it is used, instead of failing the next request or task.
        "default": dj_database_url.parse(DATABASE_URL, conn_max_age=60, conn_health_checks=True)
    }
    if env_bool("COALITION_DB_POOL", False):
        from psycopg_pool import ConnectionPool

        # Django's built-in pool (psycopg_pool), per process: connections are taken for a
        # request or task and given back, instead of one kept per thread (CONN_MAX_AGE, which a
        # pool replaces: Django refuses both). For many web and worker processes on one
        # PostgreSQL, see docs/deploy.md (and PgBouncer below).
        DATABASES["default"]["CONN_MAX_AGE"] = 0
        DATABASES["default"]["CONN_HEALTH_CHECKS"] = False  # the pool checks a connection itself
        DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
            "min_size": env_int("COALITION_DB_POOL_MIN_SIZE", 1),
            "max_size": env_int("COALITION_DB_POOL_MAX_SIZE", 4),
            "timeout": env_int("COALITION_DB_POOL_TIMEOUT", 10),
            "check": ConnectionPool.check_connection,
        }
    # Behind PgBouncer in transaction pooling, a named (server-side) cursor would outlive the
    # transaction on a server connection that is given to someone else: off. Django already
    # leaves psycopg's prepared statements off (prepare_threshold None), which PgBouncer < 1.21
    # also needs. Reads that stream (the supporter export) use COPY, which works either way.
    DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = env_bool("COALITION_DB_PGBOUNCER", False)
else:
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(VAR_DIR / "coalition.sqlite3"),
            # Tasks run in-process in embedded mode, so writers share one file: wait, don't fail.
            "OPTIONS": {"timeout": 20, "transaction_mode": "IMMEDIATE"},
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis: cache, Celery broker ----------------------------------------------------------
REDIS_URL = os.environ.get("REDIS_URL", "")
# Redis behind Sentinel (docs/deploy.md): "host:26379,host:26379". REDIS_URL then names only the
# database, user and password ("redis://:password@sentinel/7"); the sentinels name the master.
REDIS_SENTINELS = [
    (host, int(port))
    for host, _sep, port in (
        item.rpartition(":") for item in env_list("COALITION_REDIS_SENTINELS", [])
    )
]
REDIS_SENTINEL_MASTER = os.environ.get("COALITION_REDIS_SENTINEL_MASTER", "coalition")
REDIS_SENTINEL_PASSWORD = os.environ.get("COALITION_REDIS_SENTINEL_PASSWORD", "")
if REDIS_SENTINELS and not REDIS_URL:
    raise ImproperlyConfigured("COALITION_REDIS_SENTINELS needs REDIS_URL (database, password).")
if REDIS_URL:
    CACHES = {
        "default": {
            # Django's, keeping one Redis client per pool (coalition/redis_cache.py: issue 11).
            "BACKEND": "coalition.redis_cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": os.environ.get("COALITION_CACHE_PREFIX", "coalition"),
            # A cache outage must not take sign-in or signing down with it: short timeouts.
            "OPTIONS": {
                "socket_connect_timeout": 1,
                "socket_timeout": 1,
                **(
                    {"pool_class": "coalition.redis_sentinel.SentinelPool"}
                    if REDIS_SENTINELS
                    else {}
                ),
            },
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# Rendered HTML fragments that are the same for every reader (the petition page's sign form and
# counts): kept per process, so a page view costs no network round trip and a Redis outage
# changes nothing. Their keys carry what they depend on (templates/campaigns/_sign_form.html).
CACHES["fragments"] = {
    "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
    "LOCATION": "fragments",
    "OPTIONS": {"MAX_ENTRIES": 2000},
}
# Whole anonymous public pages (campaigns/page_cache.py), per process too; their freshness tokens
# live in the default cache. ~20-40 KB each: 300 bound a process's share to ~12 MB.
CACHES["pages"] = {
    "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
    "LOCATION": "pages",
    "OPTIONS": {"MAX_ENTRIES": 300},
}

# The in-memory transport needs no host; naming one keeps kombu from warning that none was given.
CELERY_BROKER_URL = REDIS_URL or "memory://localhost/"
_REDIS = redis_parse_url(REDIS_URL) if REDIS_URL else {}
if REDIS_SENTINELS:
    _auth = f":{quote(_REDIS['password'], safe='')}@" if _REDIS.get("password") else ""
    CELERY_BROKER_URL = ";".join(
        f"sentinel://{_auth}{host}:{port}/{_REDIS.get('db', 0)}" for host, port in REDIS_SENTINELS
    )
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
# Celery's Django fix-up closes the database connection after every task unless told to keep it:
# a new PostgreSQL session per letter cost the database ~10 ms of CPU each and the fan-out 28 %
# of its speed (bench/fanout.py). Kept for this many tasks, checked before each one
# (coalition/celery.py), like a web request's connection.
CELERY_DB_REUSE_MAX = env_int("COALITION_CELERY_DB_REUSE_MAX", 1000)
CELERY_TASK_DEFAULT_QUEUE = "celery"
# Mass mail's own queue (outbox.models.Email.bulk). Workers read every queue in
# CELERY_TASK_QUEUES unless started with -Q; to give letters their own workers, run one with
# `-Q bulk` and the others with `-Q celery`.
OUTBOX_BULK_QUEUE = "bulk"
CELERY_TASK_QUEUES = [Queue(CELERY_TASK_DEFAULT_QUEUE), Queue(OUTBOX_BULK_QUEUE)]
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = 120
CELERY_TASK_SOFT_TIME_LIMIT = 100
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, Any] = {
    "visibility_timeout": 3600,
    "socket_connect_timeout": 2,
}
if REDIS_SENTINELS:
    CELERY_BROKER_TRANSPORT_OPTIONS["master_name"] = REDIS_SENTINEL_MASTER
    if REDIS_SENTINEL_PASSWORD:
        CELERY_BROKER_TRANSPORT_OPTIONS["sentinel_kwargs"] = {"password": REDIS_SENTINEL_PASSWORD}
if REDIS_URL:
    # One active beat per cluster (coalition/beat.py): start beat on as many nodes as you like.
    CELERY_BEAT_SCHEDULER = "coalition.beat.BeatScheduler"
    CELERY_REDBEAT_KEY_PREFIX = os.environ.get("COALITION_CACHE_PREFIX", "coalition") + ":beat:"
    # A stand-by beat takes over this long after the active one died.
    CELERY_REDBEAT_LOCK_TIMEOUT = env_int("COALITION_BEAT_LOCK_TIMEOUT", 30)
    CELERY_BEAT_MAX_LOOP_INTERVAL = 5
    CELERY_REDBEAT_REDIS_URL = REDIS_URL
    CELERY_REDBEAT_REDIS_OPTIONS: dict[str, Any] = {"socket_timeout": 5}
    if REDIS_SENTINELS:
        CELERY_REDBEAT_REDIS_URL = "redis-sentinel://sentinel"
        CELERY_REDBEAT_REDIS_OPTIONS = {
            "sentinels": REDIS_SENTINELS,
            "service_name": REDIS_SENTINEL_MASTER,
            "db": _REDIS.get("db", 0),
            "password": _REDIS.get("password"),
            "socket_timeout": 5,
            **(
                {"sentinel_kwargs": {"password": REDIS_SENTINEL_PASSWORD}}
                if REDIS_SENTINEL_PASSWORD
                else {}
            ),
        }
CELERY_TIMEZONE = "UTC"
# The worker logs through our LOGGING config (JSON, no personal data), not Celery's own.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BEAT_SCHEDULE = {
    # Every periodic job is safe to run twice (each claims its rows with a conditional update).
    # A relay or fold still waiting when the next one is due is useless: it expires instead of
    # piling up in the queue while every worker process is busy with a wave of mass mail.
    "outbox-relay": {
        "task": "outbox.tasks.outbox_relay",
        "schedule": 2.0,
        "options": {"expires": 10},
    },
    "outbox-sweep": {
        "task": "outbox.tasks.outbox_sweep",
        "schedule": env_float("COALITION_OUTBOX_SWEEP_SECONDS", 60.0),
    },
    "decisions-close-due": {"task": "members.tasks.decisions_close_due", "schedule": 60.0},
    "signature-counts": {
        "task": "campaigns.tasks.signature_counts_fold",
        "schedule": 2.0,
        "options": {"expires": 10},
    },
    "outreach-deliveries": {"task": "outreach.tasks.deliveries_due", "schedule": 60.0},
    "joint-acts-settle": {"task": "campaigns.tasks.joint_acts_settle", "schedule": 60.0},
    "updates-fanout": {"task": "updates.tasks.updates_fanout_due", "schedule": 60.0},
    # The emigre agenda: motions past their objection period, answer notices, expired links.
    "agenda-due": {"task": "agenda.tasks.agenda_due", "schedule": 60.0},
    "agenda-retention": {"task": "agenda.tasks.agenda_purge", "schedule": 3600.0},
    "outreach-surveys": {"task": "outreach.tasks.reply_surveys_due", "schedule": 3600.0},
    "privacy-retention": {"task": "privacy.tasks.retention_purge", "schedule": 86400.0},
    "evidence-retention": {"task": "evidence.tasks.reports_purge", "schedule": 86400.0},
    "webhooks-relay": {"task": "webhooks.tasks.webhooks_relay", "schedule": 5.0},
    "webhooks-purge": {"task": "webhooks.tasks.webhooks_purge", "schedule": 86400.0},
    "signature-reminders": {
        "task": "campaigns.tasks.signatures_remind_and_expire",
        "schedule": 600.0,
    },
    # The workers' sign of life for /healthz (coalition/health.py); an undelivered one is useless
    # once the next is due, so it expires instead of piling up behind a backlog.
    "worker-heartbeat": {
        "task": "coalition.tasks.worker_heartbeat",
        "schedule": 30.0,
        "options": {"expires": 30},
    },
}
# /healthz answers 503 when no worker has reported in for this long.
HEALTH_HEARTBEAT_MAX_AGE_SECONDS = env_int("COALITION_HEALTH_HEARTBEAT_MAX_AGE", 180)

# --- Mail -----------------------------------------------------------------------------------
MAIL_DIR = Path(os.environ.get("COALITION_MAIL_DIR", VAR_DIR / "mail"))
EMAIL_TIMEOUT_SECONDS = env_int("EMAIL_TIMEOUT", 15)
MAILERS: dict[str, dict[str, Any]]
if os.environ.get("EMAIL_BACKEND"):
    # e.g. anymail.backends.postmark.EmailBackend, configured through ANYMAIL_* variables.
    MAILERS = {"default": {"BACKEND": os.environ["EMAIL_BACKEND"]}}
elif os.environ.get("EMAIL_HOST") or not (DEBUG or TESTING):
    MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {
                "host": os.environ.get("EMAIL_HOST", "localhost"),
                "port": env_int("EMAIL_PORT", 25),
                "username": os.environ.get("EMAIL_HOST_USER", ""),
                "password": os.environ.get("EMAIL_HOST_PASSWORD", ""),
                "use_tls": env_bool("EMAIL_USE_TLS", False),
                "timeout": EMAIL_TIMEOUT_SECONDS,
            },
        }
    }
else:
    # Embedded default: every message is a readable file in var/mail/ (UTF-8, sorts by time),
    # and /dev/mail/ lists them newest first (coalition/devmail.py).
    MAILERS = {
        "default": {
            "BACKEND": "coalition.devmail.EmailBackend",
            "OPTIONS": {"file_path": str(MAIL_DIR)},
        }
    }
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "Coalition <noreply@coalition.example>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
ANYMAIL = {
    key.removeprefix("ANYMAIL_"): value
    for key, value in os.environ.items()
    if key.startswith("ANYMAIL_")
}
# Which provider's bounce/inbound webhooks to mount (e.g. "postmark"); needs ANYMAIL_WEBHOOK_SECRET.
ANYMAIL_PROVIDER = os.environ.get("COALITION_ANYMAIL_PROVIDER", "")
OUTBOX_MAX_ATTEMPTS = env_int("COALITION_OUTBOX_MAX_ATTEMPTS", 8)
OUTBOX_RETRY_BASE_SECONDS = env_int("COALITION_OUTBOX_RETRY_BASE_SECONDS", 30)
OUTBOX_STUCK_AFTER_SECONDS = env_int("COALITION_OUTBOX_STUCK_AFTER_SECONDS", 300)
# A row still SENDING is re-queued only when its worker must be dead: longer than a send may
# take (outbox_send's time limit is 60 s). Shorter, a slow send could go out twice.
if OUTBOX_STUCK_AFTER_SECONDS < 120 and not TESTING:
    raise ImproperlyConfigured("COALITION_OUTBOX_STUCK_AFTER_SECONDS must be at least 120.")
# Rows the relay hands out per run and lane, and at most this many of a lane handed out and not
# yet sent: the rest of a wave waits in the database, so a broker outage loses little and the
# workers' queues stay short (outbox/services.py emails_due_claim).
OUTBOX_RELAY_BATCH = env_int("COALITION_OUTBOX_RELAY_BATCH", 1000)
OUTBOX_IN_FLIGHT = env_int("COALITION_OUTBOX_IN_FLIGHT", 2000)
# Rows per send task, sent over one connection to the mail server (emails_send), and how long
# one task keeps taking new messages before it gives the rest back (well inside its 60 s limit).
OUTBOX_SEND_BATCH = env_int("COALITION_OUTBOX_SEND_BATCH", 50)
OUTBOX_BATCH_SECONDS = env_float("COALITION_OUTBOX_BATCH_SECONDS", 20.0)
OUTBOX_MESSAGE_ID_DOMAIN = os.environ.get("COALITION_MESSAGE_ID_DOMAIN", "coalition.example")
# One-click unsubscribe (RFC 8058, outbox/suppression.py): the mailto: of List-Unsubscribe is
# <local>+<token>@<domain> of this mailbox; route it to the provider's inbound webhook.
OUTBOX_UNSUBSCRIBE_MAILBOX = os.environ.get(
    "COALITION_UNSUBSCRIBE_MAILBOX", "unsubscribe@coalition.example"
)
# DKIM signing of every outgoing message (outbox/dkim.py), on when all three are set. The key is
# a PEM private key (literal "\n" accepted, for one-line environment files).
DKIM_DOMAIN = os.environ.get("COALITION_DKIM_DOMAIN", "")
DKIM_SELECTOR = os.environ.get("COALITION_DKIM_SELECTOR", "")
DKIM_PRIVATE_KEY = os.environ.get("COALITION_DKIM_PRIVATE_KEY", "").replace("\\n", "\n")
# Campaign updates to signers (updates/): how co-sponsors agree to send one ("unanimous": every
# co-sponsor's admin approves; "no_objection": unless one objects within
# COALITION_JOINT_ACT_OBJECTION_HOURS), and how many update mails leave per minute at most.
UPDATES_APPROVAL_RULE = os.environ.get("COALITION_UPDATE_APPROVAL", "unanimous")
if UPDATES_APPROVAL_RULE not in {"unanimous", "no_objection"}:
    raise ImproperlyConfigured("COALITION_UPDATE_APPROVAL must be unanimous or no_objection.")
UPDATES_PER_MINUTE = env_int("COALITION_UPDATES_PER_MINUTE", 600)

# --- Webhooks to member organizations' own tools (webhooks/) --------------------------------
# Plain http and loopback receivers: development only (tests switch it on for their receiver).
WEBHOOKS_ALLOW_LOOPBACK = DEBUG
WEBHOOKS_ENDPOINTS_PER_ORGANIZATION = env_int("COALITION_WEBHOOKS_ENDPOINTS_PER_ORG", 10)
# Retries with exponential backoff and jitter, for this long after the event.
WEBHOOKS_RETRY_FOR = timedelta(hours=env_int("COALITION_WEBHOOKS_RETRY_HOURS", 24))
WEBHOOKS_RETRY_BASE_SECONDS = env_int("COALITION_WEBHOOKS_RETRY_BASE_SECONDS", 30)
# An endpoint is switched off (and its admins mailed) after this many failed attempts in a row.
WEBHOOKS_DISABLE_AFTER_FAILURES = env_int("COALITION_WEBHOOKS_DISABLE_AFTER_FAILURES", 20)
# After a secret is rotated the old one keeps signing, beside the new one, for this long.
WEBHOOKS_SECRET_OVERLAP = timedelta(hours=env_int("COALITION_WEBHOOKS_SECRET_OVERLAP_HOURS", 24))
WEBHOOKS_CONNECT_TIMEOUT_SECONDS = env_float("COALITION_WEBHOOKS_CONNECT_TIMEOUT", 3.0)
WEBHOOKS_TIMEOUT_SECONDS = env_float("COALITION_WEBHOOKS_TIMEOUT", 10.0)
# A delivery still SENDING after this long lost its worker (webhook_send's limit is 60 s).
WEBHOOKS_STUCK_AFTER_SECONDS = env_int("COALITION_WEBHOOKS_STUCK_AFTER_SECONDS", 300)
WEBHOOKS_RELAY_BATCH = env_int("COALITION_WEBHOOKS_RELAY_BATCH", 200)
# Bodies of finished deliveries (they may carry signers' data) are emptied after this long.
WEBHOOKS_PAYLOAD_RETENTION = timedelta(days=env_int("COALITION_WEBHOOKS_PAYLOAD_DAYS", 30))

# --- Accounts (django-allauth) ------------------------------------------------------------
AUTH_USER_MODEL = "members.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
ACCOUNT_ADAPTER = "members.adapters.AccountAdapter"
MFA_ADAPTER = "members.adapters.MFAAdapter"
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_EMAIL_VERIFICATION_BY_CODE_ENABLED = False
ACCOUNT_CONFIRM_EMAIL_ON_GET = False
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_PREVENT_ENUMERATION = True
ACCOUNT_SESSION_REMEMBER = False
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[Coalition] "
ACCOUNT_DEFAULT_HTTP_PROTOCOL = "https" if SITE_URL.startswith("https://") else "http"
ACCOUNT_RATE_LIMITS = {
    # Login lockout: allauth counts failures per IP and per account in a sliding window.
    "login": os.environ.get("COALITION_RL_LOGIN", "30/m/ip"),
    "login_failed": os.environ.get("COALITION_RL_LOGIN_FAILED", "10/m/ip,5/5m/key"),
    "signup": os.environ.get("COALITION_RL_SIGNUP", "10/h/ip"),
    "reset_password": os.environ.get("COALITION_RL_RESET_PASSWORD", "20/m/ip,5/m/key"),
}
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "Coalition"
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "members:dashboard"
ACCOUNT_LOGOUT_REDIRECT_URL = "home"

# --- Coalition rules ----------------------------------------------------------------------
# Decisions: quorum is the share of member organizations that must vote (abstaining counts);
# a decision passes when agree / (agree + disagree) is above the threshold and nobody blocks.
DECISION_QUORUM = env_float("COALITION_DECISION_QUORUM", 0.5)
DECISION_THRESHOLD = env_float("COALITION_DECISION_THRESHOLD", 0.5)
DECISION_DEADLINE = timedelta(days=env_int("COALITION_DECISION_DEADLINE_DAYS", 7))
INVITATION_VALID_FOR = timedelta(days=env_int("COALITION_INVITATION_VALID_DAYS", 14))
# Organization admins act for their whole organization: they must use two-factor sign-in.
REQUIRE_ADMIN_MFA = env_bool("COALITION_REQUIRE_ADMIN_MFA", True)
# Applications to join: one pending at a time per account, and this many in an account's life
# (staff screen each one before any member organization is mailed about it).
APPLICATIONS_PER_ACCOUNT = env_int("COALITION_APPLICATIONS_PER_ACCOUNT", 3)
# Campaigns: how many co-sponsoring organizations a campaign needs to go (and stay) live.
CAMPAIGN_MIN_COSPONSORS = env_int("COALITION_CAMPAIGN_MIN_COSPONSORS", 2)
# Joint acts of co-sponsors (campaigns/joint.py): how long co-sponsors have to object to an
# act under the no-objection rule (closing a campaign) before silence counts as consent.
JOINT_ACT_OBJECTION_PERIOD = timedelta(hours=env_int("COALITION_JOINT_ACT_OBJECTION_HOURS", 72))
# Signatures: double opt-in. Unconfirmed ones get reminders, then expire and are deleted.
SIGNATURE_CONFIRM_WITHIN = timedelta(days=env_int("COALITION_SIGNATURE_CONFIRM_DAYS", 7))
SIGNATURE_REMINDERS = env_int("COALITION_SIGNATURE_REMINDERS", 2)
SIGNATURE_REMINDER_INTERVAL = timedelta(hours=env_int("COALITION_SIGNATURE_REMINDER_HOURS", 48))
# Retention of signers' personal data (privacy/services.py).
PERSONAL_DATA_RETENTION_AFTER_CLOSE = timedelta(
    days=env_int("COALITION_RETENTION_AFTER_CLOSE_DAYS", 90)
)
# Campaigns in high security (campaigns/services/security.py) keep signers' data this long.
HIGH_SECURITY_RETENTION_AFTER_CLOSE = timedelta(
    days=env_int("COALITION_HIGH_SECURITY_RETENTION_AFTER_CLOSE_DAYS", 7)
)
UNCONFIRMED_SIGNATURE_RETENTION = timedelta(
    days=env_int("COALITION_RETENTION_UNCONFIRMED_DAYS", 30)
)
SENT_MAIL_RETENTION = timedelta(days=env_int("COALITION_RETENTION_SENT_MAIL_DAYS", 30))
# The emigre agenda (agenda/): confirmed supports that put a proposal before the member
# organizations, the days they have to answer it publicly, and the days a motion to decline or
# merge it on the coalition's behalf stays open for another member's objection.
AGENDA_SUPPORT_THRESHOLD = env_int("COALITION_AGENDA_SUPPORT_THRESHOLD", 100)
AGENDA_ANSWER_WITHIN = timedelta(days=env_int("COALITION_AGENDA_ANSWER_DAYS", 30))
AGENDA_OBJECTION_PERIOD = timedelta(days=env_int("COALITION_AGENDA_OBJECTION_DAYS", 7))
# A proposal one member organization hid is restored unless staff or a moderator of another
# member organization confirms the hiding within this many days (agenda/services.py).
AGENDA_HIDE_CONFIRM_WITHIN = timedelta(days=env_int("COALITION_AGENDA_HIDE_CONFIRM_DAYS", 3))
SIGNATURE_RESEND_COOLDOWN = timedelta(minutes=env_int("COALITION_SIGNATURE_RESEND_MINUTES", 10))
# Mail one mailbox (every spelling of it) may get in 24 hours from all the public forms together
# (outbox/mailbox_cap.py: signing's confirmations, "already signed" notes and reminders across
# all petitions, case reports' and the agenda's confirmations); past it, requests look accepted
# but send nothing.
SIGNATURE_MAILS_PER_MAILBOX = env_int("COALITION_SIGNATURE_MAILS_PER_MAILBOX_DAY", 10)
# Case reports (evidence/): a cell of the public figures is published only with at least this
# many reports (evidence/aggregates.py has the whole rule), taken as of the start of the day
# EVIDENCE_AS_OF_DAYS days ago (0: live figures; tests and demos only).
EVIDENCE_MIN_CELL = env_int("COALITION_EVIDENCE_MIN_CELL", 5)
EVIDENCE_AS_OF_DAYS = env_int("COALITION_EVIDENCE_AS_OF_DAYS", 1)
EVIDENCE_EARLIEST_YEAR = env_int("COALITION_EVIDENCE_EARLIEST_YEAR", 2014)
EVIDENCE_CONFIRM_WITHIN = timedelta(days=env_int("COALITION_EVIDENCE_CONFIRM_DAYS", 7))
# At most this many reports of one mailbox count in an issue area's figures (rule 5).
EVIDENCE_MAX_PER_MAILBOX = env_int("COALITION_EVIDENCE_MAX_PER_MAILBOX", 3)
# Retention (evidence.tasks.reports_purge, daily): rejected reports and reports nobody reviewed
# are deleted; verified ones lose the reporter's address, words and consents.
EVIDENCE_REJECTED_RETENTION = timedelta(days=env_int("COALITION_EVIDENCE_REJECTED_DAYS", 30))
EVIDENCE_UNREVIEWED_RETENTION = timedelta(days=env_int("COALITION_EVIDENCE_UNREVIEWED_DAYS", 180))
EVIDENCE_CONTACT_RETENTION = timedelta(days=env_int("COALITION_EVIDENCE_CONTACT_DAYS", 365))
# Published accounts (evidence/services.accounts_release, aggregates.py rule 6): released only on
# every Nth day, only accounts verified and approved at least this many days before, so an
# account appearing is not tied to the day its report moved the figures.
EVIDENCE_ACCOUNT_RELEASE_EVERY_DAYS = env_int("COALITION_EVIDENCE_ACCOUNT_RELEASE_EVERY_DAYS", 7)
EVIDENCE_ACCOUNT_DELAY_DAYS = env_int("COALITION_EVIDENCE_ACCOUNT_DELAY_DAYS", 14)
# A moderator's public version is refused when it is more similar than this (0 to 1, difflib) to
# the reporter's own words, or copies more than this share of them in long runs.
EVIDENCE_REDACTION_MAX_SIMILARITY = env_float("COALITION_EVIDENCE_REDACTION_MAX_SIMILARITY", 0.8)
# Out of range, these would publish reporters' words sooner or nearly unchanged: stop instead.
if EVIDENCE_ACCOUNT_RELEASE_EVERY_DAYS < 1:
    raise ImproperlyConfigured(
        f"COALITION_EVIDENCE_ACCOUNT_RELEASE_EVERY_DAYS={EVIDENCE_ACCOUNT_RELEASE_EVERY_DAYS} "
        "must be at least 1 (1: a release every day)."
    )
if EVIDENCE_ACCOUNT_DELAY_DAYS < EVIDENCE_ACCOUNT_RELEASE_EVERY_DAYS:
    # At least one release cycle between approval and appearance: with no delay and a daily
    # release an account would appear the day after its report moved the figures.
    raise ImproperlyConfigured(
        f"COALITION_EVIDENCE_ACCOUNT_DELAY_DAYS={EVIDENCE_ACCOUNT_DELAY_DAYS} must be at least "
        f"COALITION_EVIDENCE_ACCOUNT_RELEASE_EVERY_DAYS ({EVIDENCE_ACCOUNT_RELEASE_EVERY_DAYS})."
    )
if not 0 < EVIDENCE_REDACTION_MAX_SIMILARITY < 1:
    raise ImproperlyConfigured(
        f"COALITION_EVIDENCE_REDACTION_MAX_SIMILARITY={EVIDENCE_REDACTION_MAX_SIMILARITY} must be "
        "above 0 and below 1 (e.g. 0.8): at 1 or more a reporter's own words would pass as a "
        "public version with a word changed."
    )
# Outreach to EU contacts: the letters' sender, polite pacing, replies.
OUTREACH_FROM_ADDRESS = os.environ.get("COALITION_OUTREACH_FROM", "letters@coalition.example")
OUTREACH_NIGHT_SLOWDOWN = env_float("COALITION_OUTREACH_NIGHT_SLOWDOWN", 3.0)
OUTREACH_SURVEY_AFTER = timedelta(days=env_int("COALITION_OUTREACH_SURVEY_DAYS", 14))
OUTREACH_SURVEY_REMINDER_AFTER = timedelta(
    days=env_int("COALITION_OUTREACH_SURVEY_REMINDER_DAYS", 7)
)
# "rate/period" strings per form; see foundation/ratelimit.py.
RATE_LIMITS = {
    # Every sign post per address: a ceiling against one machine, high enough for a busy Tor
    # exit many people share; not applied under the onion host (campaigns/limits.py).
    "sign_ip": os.environ.get("COALITION_RL_SIGN_IP", "300/h"),
    # Visits through share links (?ch=) counted per network; past it the page shows, uncounted.
    "share_visit": os.environ.get("COALITION_RL_SHARE_VISIT", "30/h"),
    # Signatures sent without a solved proof of work (JavaScript off, or the widget failed),
    # from everybody together: when spent, the page says so (foundation/nojs.py).
    "sign_nojs": os.environ.get("COALITION_RL_SIGN_NOJS", "600/h"),
    # ... and per petition, spent first: a flood aimed at one petition takes at most this much
    # of the shared budget above, so no-JavaScript signers of other petitions still get through.
    # The JSON API's sign-ups without a proof of work spend it too (the OSDI API's have their own).
    "sign_nojs_petition": os.environ.get("COALITION_RL_SIGN_NOJS_PETITION", "150/h"),
    # Case reports sent without a solved proof of work, from everybody together
    # (evidence/limits.py).
    "report_nojs": os.environ.get("COALITION_RL_REPORT_NOJS", "100/h"),
    # Agenda proposals and supports sent without one, from everybody together (agenda/views.py).
    "agenda_nojs": os.environ.get("COALITION_RL_AGENDA_NOJS", "200/h"),
    # Per email domain, counting only posts with a solved proof of work (campaigns/limits.py).
    "sign_domain": os.environ.get("COALITION_RL_SIGN_DOMAIN", "600/h"),
    # Per email domain for posts without one: a flood of them cannot hold back the posts above.
    "sign_domain_unverified": os.environ.get("COALITION_RL_SIGN_DOMAIN_UNVERIFIED", "200/h"),
    "campaign_edit": os.environ.get("COALITION_RL_CAMPAIGN_EDIT", "60/h"),
    # Every other form of the organizations' workspace, per person.
    "org_write": os.environ.get("COALITION_RL_ORG_WRITE", "120/h"),
    # Signer links (confirm, withdraw, delete, letters, survey), per address.
    "signer_link": os.environ.get("COALITION_RL_SIGNER_LINK", "60/h"),
    "org_apply": os.environ.get("COALITION_RL_ORG_APPLY", "5/h"),
    # New agenda proposals per address (supports count against the signing budgets).
    "agenda_propose": os.environ.get("COALITION_RL_AGENDA_PROPOSE", "5/h"),
    "org_invite": os.environ.get("COALITION_RL_ORG_INVITE", "30/h"),
    "vote": os.environ.get("COALITION_RL_VOTE", "30/m"),
    # The OSDI partner API (api/osdi.py), per organization API token: every request; and the
    # sign-ups through record_signature_helper, in all and per email domain.
    "osdi": os.environ.get("COALITION_RL_OSDI", "600/h"),
    "osdi_sign": os.environ.get("COALITION_RL_OSDI_SIGN", "300/h"),
    "osdi_sign_domain": os.environ.get("COALITION_RL_OSDI_SIGN_DOMAIN", "100/h"),
    # All partners' sign-ups to one petition together (not the no-JavaScript signers' budget).
    "osdi_sign_petition": os.environ.get("COALITION_RL_OSDI_SIGN_PETITION", "300/h"),
}
# Forms sent without JavaScript carry a signed form token that must be at least this old (a
# person reads and types for longer) and at most this old (foundation/nojs.py). 8 s, not 5: a
# bot harvesting tokens waits longer per post; nobody reads a petition and types a name and an
# address in under 8 s.
NOJS_MIN_SECONDS = env_int("COALITION_NOJS_MIN_SECONDS", 8)
NOJS_MAX_AGE_SECONDS = env_int("COALITION_NOJS_MAX_AGE_SECONDS", 4 * 3600)
# Active API tokens one organization may hold at a time.
API_TOKENS_PER_ORGANIZATION = env_int("COALITION_API_TOKENS_PER_ORGANIZATION", 10)
# Keyed hashes of IP addresses and tokens use this key, so a leaked cache or table reveals
# neither. Defaults to the secret key; set it separately to rotate one without the other.
HASH_KEY = os.environ.get("COALITION_HASH_KEY", SECRET_KEY)
# Proof of work on the sign form (campaigns/pow.py). The key signs the challenges (defaults to
# the secret key; set it separately to rotate one without the other). ALTCHA_MAX_NUMBER bounds the
# SHA-256 hashes a browser must compute per signature: each challenge asks for half to all of it.
ALTCHA_HMAC_KEY = os.environ.get("COALITION_ALTCHA_HMAC_KEY") or SECRET_KEY
ALTCHA_MAX_NUMBER = env_int("COALITION_ALTCHA_MAX_NUMBER", 50_000)
# How many reverse proxies in front of us append to X-Forwarded-For (0: use the socket address).
TRUSTED_PROXY_COUNT = env_int("COALITION_TRUSTED_PROXY_COUNT", 0)
RATELIMIT_ENABLE = env_bool("COALITION_RATELIMIT_ENABLE", True)

# --- Internationalization -----------------------------------------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("ru", _("Russian"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
USE_TZ = True
TIME_ZONE = "UTC"
LANGUAGE_COOKIE_SECURE = not DEBUG
LANGUAGE_COOKIE_HTTPONLY = True
LANGUAGE_COOKIE_SAMESITE = "Lax"

# --- Static files -------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG or TESTING
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = DEBUG or TESTING
MEDIA_ROOT = VAR_DIR / "media"
MEDIA_URL = "/media/"

# --- Security -----------------------------------------------------------------------------
# No request may leave for another host: fonts, scripts, styles and images are ours.
SECURE_CSP = {
    "default-src": [CSP.NONE],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "base-uri": [CSP.NONE],
}
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = 60 * 60 * 24 * 14
CSRF_FAILURE_VIEW = "coalition.views.csrf_failure"
# Production hardening. The test suite serves plain HTTP on loopback (test client, live server for
# the browser tests), so it keeps these off; `make check-deploy` verifies them in production mode.
if not DEBUG and not TESTING:
    SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = env_int("DJANGO_SECURE_HSTS_SECONDS", 60 * 60 * 24 * 365)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]

# --- Logging: JSON lines with request ids, never personal data ----------------------------
# Error reports (a debug page, a mail to admins) hold no request headers, cookies, posted fields,
# frame variables or secret path arguments (coalition/logs.py).
DEFAULT_EXCEPTION_REPORTER = "coalition.logs.PrivacyExceptionReporter"
DEFAULT_EXCEPTION_REPORTER_FILTER = "coalition.logs.PrivacyExceptionReporterFilter"
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "request_id": {"()": "coalition.middleware.RequestIdFilter"},
        "redacted_path": {"()": "coalition.middleware.RedactedPathFilter"},
        # On every handler: no address, user agent, query or token in any line (coalition/logs.py).
        "privacy": {"()": "coalition.logs.PrivacyFilter"},
    },
    "formatters": {
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s",
        },
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["request_id", "privacy"],
            "formatter": os.environ.get("COALITION_LOG_FORMAT", "plain" if DEBUG else "json"),
        }
    },
    "root": {"handlers": ["console"], "level": os.environ.get("COALITION_LOG_LEVEL", "INFO")},
    "loggers": {
        # Access lines come from coalition.access (AccessLogMiddleware), without tokens, client
        # addresses or user agents; Django's own error lines get the same redacted path.
        "django.request": {"level": "ERROR", "filters": ["redacted_path"]},
        # Django's own defaults would also hang its console and mail_admins handlers here, which
        # lack the privacy filter: ours replace them (error reports: DEFAULT_EXCEPTION_REPORTER).
        "django": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "django.server": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "django.security": {"level": "WARNING"},
        "celery.app.trace": {"level": "WARNING"},
    },
}
