"""The floor every ratio of the issue's targets is taken to: a bare Django project (the default
middleware of `django-admin startproject`, one view answering "ok", no database touched) under
the same gunicorn, on the same cores, in the same run. Its files are written into a temporary
directory; nothing of Coalition is imported."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import _common as common

SETTINGS = """
SECRET_KEY = "bench-bare-django-not-secret"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1"]
ROOT_URLCONF = "bare_urls"
WSGI_APPLICATION = "bare_wsgi.application"
INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
]
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}
USE_TZ = True
STATIC_URL = "static/"
LOGGING_CONFIG = None
"""

URLS = """
from django.http import HttpResponse
from django.urls import path


def ok(request):
    return HttpResponse("ok")


urlpatterns = [path("", ok)]
"""

WSGI = """
import os

from django.core.wsgi import get_wsgi_application

os.environ["DJANGO_SETTINGS_MODULE"] = "bare_settings"
application = get_wsgi_application()
"""


def start(*, workdir: Path, workers: int) -> common.Gunicorn:
    """gunicorn serving the bare project on a free port, as Coalition's is served."""
    project = workdir / "bare"
    project.mkdir(parents=True, exist_ok=True)
    (project / "bare_settings.py").write_text(SETTINGS)
    (project / "bare_urls.py").write_text(URLS)
    (project / "bare_wsgi.py").write_text(WSGI)
    port = common.free_port()
    log = workdir / "bare-gunicorn.log"
    process = subprocess.Popen(
        [
            common.GUNICORN,
            "bare_wsgi",
            "-w",
            str(workers),
            "-b",
            f"127.0.0.1:{port}",
            "--no-control-socket",
            "--chdir",
            str(project),
        ],
        cwd=project,
        env={"PATH": "/usr/bin:/bin", "PYTHONUNBUFFERED": "1"},
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )
    server = common.Gunicorn(process=process, port=port, log=log)
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"bare gunicorn exited early:\n{log.read_text()[-4000:]}")
        if common._answers(port, "/") and len(server.worker_pids()) >= workers:
            return server
        time.sleep(0.2)
    server.stop()
    raise SystemExit(f"bare gunicorn did not answer:\n{log.read_text()[-4000:]}")
