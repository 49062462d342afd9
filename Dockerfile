# syntax=docker/dockerfile:1
# The coalition site: one image for the web server, the Celery worker and Celery beat.
# docker-compose.yml picks the process; the default is the web server (gunicorn).
# See docs/deploy.md.

ARG PYTHON_IMAGE=python:3.12-slim

# --- Build stage: dependencies and static files ---------------------------------------------
# uv and the throwaway secret used by collectstatic stay in this stage; the final image only
# receives the virtual environment and the collected files.
FROM ${PYTHON_IMAGE} AS build

# Same version as the Makefile, so the image installs exactly what developers install.
ARG UV_VERSION=0.13.8
RUN pip install --no-cache-dir --disable-pip-version-check "uv==${UV_VERSION}"

ENV UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PYTHON=/usr/local/bin/python3.12 \
    UV_PROJECT_ENVIRONMENT=/app/.venv

WORKDIR /app

# The lock file alone decides the dependency layer, so code changes reuse it.
COPY pyproject.toml uv.lock .python-version ./
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --no-install-project

COPY . .

# Production settings need a secret key even to collect static files. This one exists only for
# the length of this RUN: it is neither an ARG nor an ENV, so it is not recorded in the image.
# DJANGO_DEBUG=0 selects whitenoise's manifest storage, which writes the hashed file names the
# running site will look up.
RUN DJANGO_DEBUG=0 \
    DJANGO_SECRET_KEY=collectstatic-at-build-time-only-not-a-secret \
    COALITION_VAR_DIR=/app/var \
    /app/.venv/bin/python manage.py collectstatic --noinput

# --- Runtime stage ----------------------------------------------------------------------------
FROM ${PYTHON_IMAGE} AS runtime

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PATH=/app/.venv/bin:$PATH \
    DJANGO_SETTINGS_MODULE=coalition.settings \
    COALITION_VAR_DIR=/app/var

RUN groupadd --system --gid 10001 coalition \
    && useradd --system --uid 10001 --gid coalition --home-dir /app --no-create-home \
       --shell /usr/sbin/nologin coalition

WORKDIR /app

# Code, dependencies and static files belong to root: the site process can read them but not
# change them. Only var/media and var/mail (mail written as files, in debug mode) are its own.
COPY --from=build /app/.venv /app/.venv
COPY --from=build /app/var/staticfiles /app/var/staticfiles
COPY . .
RUN mkdir -p /app/var/media /app/var/mail \
    && chown coalition:coalition /app/var/media /app/var/mail

# Numeric, so a runtime can verify the user is not root without reading /etc/passwd.
USER 10001:10001
EXPOSE 8000

# gunicorn takes its worker count from WEB_CONCURRENCY (default 1) and further options from
# GUNICORN_CMD_ARGS, so both can be tuned in .env without rebuilding. Its control socket would
# go under $HOME (/app, not writable by the site user) and nothing here uses gunicornc.
# The timeout is long because supporter exports stream for minutes; a worker killed at the
# default 30 s would cut a large export short. No gunicorn access log: it wrote signers' links
# with their tokens, and client addresses; the site logs each request itself, redacted
# (coalition.middleware.AccessLogMiddleware).
# Port 8001 is for the tor daemon only (COALITION_ONION_PORT, docker/tor/torrc): the site
# tells onion requests by the port they arrived on, so it is never published to the host.
CMD ["gunicorn", "coalition.wsgi:application", "--bind", "0.0.0.0:8000", \
     "--bind", "0.0.0.0:8001", "--timeout", "600", "--no-control-socket"]
