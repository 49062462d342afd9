"""The Docker Compose deployment, checked without Docker: the file against the Compose
specification, the services and their health checks, and .env.example against the settings.

No Docker engine is needed (nor used): these read docker-compose.yml, .env.example and
coalition/settings.py as text.
"""

from __future__ import annotations

import http.server
import importlib.util
import os
import re
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import urlsplit

import pytest
from ruamel.yaml import YAML  # PyYAML is not installed; check-jsonschema brings ruamel.yaml

ROOT = Path(__file__).resolve().parent.parent
COMPOSE_FILE = ROOT / "docker-compose.yml"
ENV_EXAMPLE = ROOT / ".env.example"
SETTINGS_FILE = ROOT / "coalition" / "settings.py"
CHECK_JSONSCHEMA = Path(sys.executable).parent / "check-jsonschema"

APP_SERVICES = ("web", "worker", "beat")
EXPECTED_SERVICES = {*APP_SERVICES, "migrate", "postgres", "redis", "mailpit"}
# .env.example variables that configure the containers rather than the site, and who reads them.
COMPOSE_VARIABLES = {"POSTGRES_USER", "POSTGRES_PASSWORD", "POSTGRES_DB", "APP_IMAGE", "WEB_BIND"}
GUNICORN_VARIABLES = {"WEB_CONCURRENCY", "GUNICORN_CMD_ARGS"}
# Settings that must not be set in a deployment: one is for the test suite, the other is fixed
# by the image, where collectstatic wrote the static files.
NOT_FOR_DEPLOYMENT = {"COALITION_TESTING", "COALITION_VAR_DIR"}
SECRET_NAME = re.compile(r"SECRET|PASSWORD|TOKEN|_KEY$")
SETTINGS_READ = re.compile(
    r"(?:os\.environ\.get|env_bool|env_int|env_float|env_list)\(\s*\"([A-Z][A-Z0-9_]*)\""
)
# "NAME=value" and the commented-out defaults "# NAME=value".
ENV_LINE = re.compile(r"^#?\s*([A-Z][A-Z0-9_]*)=(.*)$")


def _compose() -> dict[str, Any]:
    return YAML(typ="safe").load(COMPOSE_FILE.read_text())


def _services() -> dict[str, dict[str, Any]]:
    return _compose()["services"]


def _env_example() -> dict[str, str]:
    """Every variable named in .env.example, set or commented out, with its example value."""
    variables = {}
    for line in ENV_EXAMPLE.read_text().splitlines():
        match = ENV_LINE.match(line.strip())
        if match:
            variables[match.group(1)] = match.group(2).strip()
    return variables


def _env_files(service: dict[str, Any]) -> list[str]:
    value = service.get("env_file", [])
    entries = [value] if isinstance(value, str | dict) else value
    return [entry["path"] if isinstance(entry, dict) else entry for entry in entries]


def _environment(service: dict[str, Any]) -> dict[str, str]:
    value = service.get("environment") or {}
    if isinstance(value, list):
        return dict(item.partition("=")[::2] for item in value)
    return {key: "" if item is None else str(item) for key, item in value.items()}


def _one_shot_services(services: dict[str, dict[str, Any]]) -> set[str]:
    """Services that others wait for to *finish*: they exit, so they have nothing to check."""
    return {
        name
        for service in services.values()
        if isinstance(service.get("depends_on"), dict)
        for name, condition in service["depends_on"].items()
        if condition.get("condition") == "service_completed_successfully"
    }


def _run_schema_check(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 (fixed arguments, no shell)
        [str(CHECK_JSONSCHEMA), "--builtin-schema", "vendor.compose-spec", str(path)],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


def test_compose_file_follows_the_compose_specification() -> None:
    result = _run_schema_check(COMPOSE_FILE)
    assert result.returncode == 0, result.stdout + result.stderr


def test_schema_check_rejects_a_service_with_an_unknown_key(tmp_path: Path) -> None:
    # Guards the test above: the checker must really validate against the Compose schema.
    broken = tmp_path / "docker-compose.yml"
    broken.write_text("services:\n  web:\n    image: coalition\n    helthcheck: {}\n")
    result = _run_schema_check(broken)
    assert result.returncode != 0
    assert "helthcheck" in result.stdout + result.stderr


def test_all_services_are_defined() -> None:
    assert set(_services()) >= EXPECTED_SERVICES


def test_every_long_running_service_has_a_healthcheck() -> None:
    services = _services()
    one_shot = _one_shot_services(services)
    assert one_shot == {"migrate"}
    for name, service in services.items():
        if name in one_shot:
            continue
        healthcheck = service.get("healthcheck") or {}
        assert healthcheck.get("test"), f"{name} has no health check"
        assert not healthcheck.get("disable"), f"{name} disables its health check"
        assert healthcheck["test"] != ["NONE"], f"{name} disables its health check"


def test_python_healthchecks_compile() -> None:
    for name, service in _services().items():
        test = service.get("healthcheck", {}).get("test", [])
        if isinstance(test, list) and test[:3] == ["CMD", "python", "-c"]:
            compile(test[3], f"<{name} healthcheck>", "exec")


def _healthcheck_code(service: str) -> str:
    test = _services()[service]["healthcheck"]["test"]
    assert test[:3] == ["CMD", "python", "-c"], test
    return test[3]


def _run_code(code: str, env: dict[str, str] | None = None) -> int:
    return subprocess.run(  # noqa: S603 (our own interpreter and code, no shell)
        [sys.executable, "-c", code], capture_output=True, env=env, timeout=30, check=False
    ).returncode


class _HealthzStub(http.server.BaseHTTPRequestHandler):
    status = 200
    hosts: ClassVar[list[str | None]] = []

    def do_GET(self) -> None:
        type(self).hosts.append(self.headers["Host"])
        self.send_response(self.status if self.path == "/healthz" else 404)
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.mark.parametrize(("status", "healthy"), [(200, True), (503, True), (500, False)])
def test_web_healthcheck_accepts_a_degraded_site_but_not_an_error(
    status: int, healthy: bool
) -> None:
    # /healthz answers 503 while the worker is down, and restarting web would not fix that.
    handler = type("Handler", (_HealthzStub,), {"status": status, "hosts": []})
    with http.server.HTTPServer(("127.0.0.1", 0), handler) as server:
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            code = _healthcheck_code("web").replace(
                "127.0.0.1:8000", f"127.0.0.1:{server.server_port}"
            )
            env = {"DJANGO_ALLOWED_HOSTS": ".coalition.example,localhost"}
            returncode = _run_code(code, env)
        finally:
            server.shutdown()
    assert (returncode == 0) is healthy
    # Django answers 400 to a Host it does not serve, so the check must send an allowed one.
    assert handler.hosts == ["coalition.example"]


def test_web_healthcheck_fails_when_nothing_listens() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # reserved but not listening: connections are refused
        code = _healthcheck_code("web").replace("127.0.0.1:8000", f"127.0.0.1:{port}")
        assert _run_code(code, {}) != 0


def test_beat_healthcheck_fails_when_the_schedule_file_is_stale_or_missing(
    tmp_path: Path,
) -> None:
    schedule = tmp_path / "celerybeat-schedule"
    in_container = "/tmp/celerybeat-schedule"  # noqa: S108 (the path inside the beat container)
    code = _healthcheck_code("beat").replace(in_container, str(schedule))
    assert _run_code(code) != 0
    schedule.with_suffix(".dat").write_bytes(b"")  # the dbm module decides the suffix
    assert _run_code(code) == 0
    an_hour_ago = time.time() - 3600
    os.utime(schedule.with_suffix(".dat"), (an_hour_ago, an_hour_ago))
    assert _run_code(code) != 0


def test_app_services_read_their_configuration_from_dot_env() -> None:
    services = _services()
    for name in (*APP_SERVICES, "migrate"):
        assert _env_files(services[name]) == [".env"], name


def test_app_services_wait_for_migrations_and_healthy_backing_services() -> None:
    services = _services()
    for name in APP_SERVICES:
        depends_on = services[name]["depends_on"]
        assert depends_on["migrate"]["condition"] == "service_completed_successfully", name
        assert depends_on["postgres"]["condition"] == "service_healthy", name
        assert depends_on["redis"]["condition"] == "service_healthy", name
    assert services["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"


def test_long_running_services_restart_unless_stopped() -> None:
    services = _services()
    for name in services.keys() - _one_shot_services(services):
        assert services[name].get("restart") == "unless-stopped", name


def test_mailpit_starts_only_with_the_local_profile() -> None:
    services = _services()
    assert services["mailpit"].get("profiles") == ["local"]
    for name in EXPECTED_SERVICES - {"mailpit"}:
        assert not services[name].get("profiles"), f"{name} would not start in production"


def test_compose_file_holds_no_secret() -> None:
    text = COMPOSE_FILE.read_text()
    for name, value in _env_example().items():
        if SECRET_NAME.search(name) and value:
            assert value not in text, f"the example value of {name} is written in the compose file"
    for service_name, service in _services().items():
        for name, value in _environment(service).items():
            if SECRET_NAME.search(name):
                assert re.fullmatch(r"\$\{[^}]+\}", value), (
                    f"{service_name} sets {name} in the compose file; put it in .env"
                )


def test_env_example_lists_only_variables_that_something_reads() -> None:
    settings_text = SETTINGS_FILE.read_text()
    compose_text = COMPOSE_FILE.read_text()
    gunicorn_spec = importlib.util.find_spec("gunicorn.config")
    assert gunicorn_spec is not None and gunicorn_spec.origin is not None
    gunicorn_text = Path(gunicorn_spec.origin).read_text()
    for name in _env_example():
        if name in COMPOSE_VARIABLES:
            assert "${" + name in compose_text, f"{name} is not used by docker-compose.yml"
        elif name in GUNICORN_VARIABLES:
            assert f"'{name}'" in gunicorn_text or f'"{name}"' in gunicorn_text, name
        elif name.startswith("ANYMAIL_"):
            assert '"ANYMAIL_"' in settings_text
        else:
            assert f'"{name}"' in settings_text, f"coalition/settings.py does not read {name}"


def test_env_example_documents_every_variable_the_settings_read() -> None:
    read = set(SETTINGS_READ.findall(SETTINGS_FILE.read_text()))
    assert "DJANGO_SECRET_KEY" in read  # the pattern still matches how settings.py reads env
    missing = read - NOT_FOR_DEPLOYMENT - set(_env_example())
    assert not missing, f"add these to .env.example: {sorted(missing)}"


@pytest.mark.parametrize(
    "name",
    [
        "DJANGO_DEBUG",
        "DJANGO_SECRET_KEY",
        "DJANGO_ALLOWED_HOSTS",
        "COALITION_SITE_URL",
        "DATABASE_URL",
        "REDIS_URL",
        "EMAIL_HOST",
        "POSTGRES_PASSWORD",
    ],
)
def test_env_example_sets_what_a_deployment_needs(name: str) -> None:
    # Set, not just mentioned in a comment: these have no safe default in production.
    assert re.search(rf"^{name}=\S", ENV_EXAMPLE.read_text(), re.MULTILINE), name


def test_env_example_database_url_matches_the_postgres_service() -> None:
    env = _env_example()
    url = urlsplit(env["DATABASE_URL"])
    assert url.hostname == "postgres"
    assert url.username == env["POSTGRES_USER"]
    assert url.password == env["POSTGRES_PASSWORD"]
    assert url.path.lstrip("/") == env["POSTGRES_DB"]


def test_env_example_is_production_mode() -> None:
    assert _env_example()["DJANGO_DEBUG"] == "0"


def test_uploaded_files_outlive_the_web_container() -> None:
    # Campaign images and outcome evidence live in MEDIA_ROOT: inside the container they would
    # vanish with every image update.
    assert "media:/app/var/media" in _services()["web"].get("volumes", [])
    assert "media" in _compose()["volumes"]


def test_the_onion_service_starts_only_with_the_tor_profile_and_keeps_its_keys() -> None:
    compose = _compose()
    tor = compose["services"]["tor"]
    assert tor.get("profiles") == ["tor"]
    assert tor["build"]["context"] == "docker/tor"
    assert "tor-keys:/var/lib/tor" in tor["volumes"] and "tor-keys" in compose["volumes"]
    dockerfile = (ROOT / "docker" / "tor" / "Dockerfile").read_text()
    assert "FROM debian:" in dockerfile and "apt-get install" in dockerfile
    assert "USER debian-tor" in dockerfile
    torrc = (ROOT / "docker" / "tor" / "torrc").read_text()
    assert "HiddenServiceDir /var/lib/tor/coalition" in torrc
    # The onion port, not the clearnet one: the site tells onion requests by it.
    assert "HiddenServicePort 80 web:8001" in torrc
    assert "SocksPort 0" in torrc
