# The two commands: `make run` and `make test`. Both install what they need first.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.12 || command -v python3)
UV_VERSION := 0.13.8
UV := .tools/bin/uv
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000
# Tests use the real PostgreSQL and Redis when they answer on 127.0.0.1 (ours and CI do).
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/coalition
TEST_REDIS_URL ?= redis://127.0.0.1:6379/15
# pytest-xdist: one worker process per core (at most 4), each with its own test database and Redis
# database (tests/conftest.py: /15, /14, ...). `PYTEST_ARGS=-n0` runs everything in one process.
# worksteal: a worker that runs dry takes half of the other's remaining tests.
PYTEST_XDIST ?= -n auto --maxprocesses=4 --dist=worksteal

.PHONY: install run test lint typecheck pytest messages check-deploy audit clean e2e-tools

$(UV):
	$(PYTHON) -m venv .tools
	.tools/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

# --compile-bytecode: every process the tests start (Celery workers, gunicorn, manage.py) would
# otherwise compile Django and the rest from source again where PYTHONDONTWRITEBYTECODE is set:
# ~2 s of CPU per process start.
$(VENV)/.installed: uv.lock pyproject.toml | $(UV)
	$(UV) sync --frozen --compile-bytecode --python $(PYTHON)
	touch $@

install: $(VENV)/.installed

run: export DJANGO_DEBUG := $(or $(DJANGO_DEBUG),1)
run: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo
	bin/run-dev $(PORT)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports --no-cache

typecheck: install
	DJANGO_DEBUG=1 $(VENV)/bin/mypy .

# axe-core for the browser tests (tests/e2e/axe.py), from the lock file; tests only, never served.
E2E_VENDOR := tests/e2e/vendor
$(E2E_VENDOR)/node_modules/.installed: $(E2E_VENDOR)/package.json $(E2E_VENDOR)/package-lock.json
	npm ci --prefix $(E2E_VENDOR) --no-audit --no-fund
	touch $@

e2e-tools: $(E2E_VENDOR)/node_modules/.installed

pytest: install e2e-tools
	@if $(PY) bin/services-up.py; then \
	  echo "Using PostgreSQL and Redis on 127.0.0.1"; \
	  DATABASE_URL=$${DATABASE_URL:-$(TEST_DATABASE_URL)} REDIS_URL=$${REDIS_URL:-$(TEST_REDIS_URL)} \
	    $(VENV)/bin/pytest $(PYTEST_XDIST) $(PYTEST_ARGS); \
	else \
	  echo "PostgreSQL/Redis not reachable: running on SQLite; integration tests will skip"; \
	  $(VENV)/bin/pytest $(PYTEST_XDIST) $(PYTEST_ARGS); \
	fi

test: lint typecheck pytest

# The inner loop: no browser, no real Celery worker or SMTP server (tests/e2e, tests/integration).
.PHONY: test-fast test-nightly
test-fast: PYTEST_ARGS += -m "not e2e and not integration" --ignore=tests/e2e --ignore=tests/integration
test-fast: pytest

# Everything `make test` runs, with the fuzzers (tests/fuzz) at ten times their budget on fresh,
# random examples instead of the same derandomized ones (the hypothesis profile in tests/conftest.py).
test-nightly: PYTEST_ARGS += --hypothesis-profile=nightly
test-nightly: lint typecheck pytest

messages: install
	DJANGO_DEBUG=1 $(PY) manage.py makemessages -l ru --no-obsolete --no-location \
	  --ignore='.venv/*' --ignore='.tools/*' --ignore='var/*'
	DJANGO_DEBUG=1 $(PY) manage.py compilemessages -l ru --ignore='.venv/*' --ignore='.tools/*'

check-deploy: install
	DJANGO_DEBUG=0 DJANGO_SECRET_KEY=check-deploy-$$(head -c 32 /dev/urandom | base64 | tr -dc a-zA-Z0-9) \
	  COALITION_ENCRYPTION_KEYS=$$($(PY) -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())") \
	  DJANGO_ALLOWED_HOSTS=coalition.example $(PY) manage.py check --deploy --fail-level WARNING

# Known vulnerabilities in the locked dependencies. --strict fails when a package could not be
# checked, so an unreachable vulnerability database is a failure, not a pass.
audit: install
	$(UV) export --frozen --no-emit-project --format requirements-txt > var/requirements.txt
	$(VENV)/bin/pip-audit --strict --disable-pip --no-deps -r var/requirements.txt

clean:
	rm -rf $(VENV) .tools var
