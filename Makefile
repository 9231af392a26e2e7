# Kaunti: `make run` serves the demo; `make test` runs every test. See README.md.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
PIP_QUIET := --quiet --disable-pip-version-check
MANAGE := DEBUG=1 $(PY) manage.py
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test test-fast setup setup-dev assets lint lock messages clean upgrade

# --- Set-up (each step reruns only when its inputs change) -----------------------------
$(VENV)/.base: requirements.lock
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install $(PIP_QUIET) --upgrade pip 2>&1 | grep -v "^WARNING: Location" || true
	$(PY) -m pip install $(PIP_QUIET) -r requirements.lock 2>&1 | grep -v "^WARNING: Location" || true
	$(PY) -c "import django, celery, rest_framework" 
	@touch $@

$(VENV)/.dev: $(VENV)/.base requirements-dev.lock
	$(PY) -m pip install $(PIP_QUIET) -r requirements-dev.lock 2>&1 | grep -v "^WARNING: Location" || true
	$(PY) -c "import pytest, playwright, mypy"
	@touch $@

node_modules/.installed: package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

kaunti/static/build/.built: node_modules/.installed scripts/build-assets.mjs $(wildcard kaunti/static/kaunti/*.scss)
	node scripts/build-assets.mjs
	@touch $@

setup: $(VENV)/.base kaunti/static/build/.built
setup-dev: $(VENV)/.dev kaunti/static/build/.built
assets: kaunti/static/build/.built

# --- The two commands -------------------------------------------------------------------
run: setup
	$(MANAGE) migrate --noinput -v0
	$(MANAGE) load_demo_data
	HOST=$(HOST) PORT=$(PORT) scripts/run-demo.sh

# Every test, on every core (pytest-xdist): PostgreSQL when DATABASE_URL is set, else SQLite.
test: setup-dev
	@scripts/ensure-chromium.sh
	DEBUG=1 KAUNTI_TESTING=1 $(VENV)/bin/pytest -q -n auto $(PYTEST_ARGS)

# While working: the same, keeping the test database between runs and leaving out the
# browser tests (CI runs everything).
test-fast: setup-dev
	DEBUG=1 KAUNTI_TESTING=1 $(VENV)/bin/pytest -q -n auto --reuse-db -m "not browser" $(PYTEST_ARGS)

# Upgrade this installation to the code checked out (docs/operations/upgrade.md): backup,
# maintenance mode, migrations, static files, restart, smoke checks. Run with the
# production environment loaded; UPGRADE_ARGS="--plan" shows the plan only.
upgrade: setup
	$(PY) manage.py upgrade $(UPGRADE_ARGS)

# --- Quality gates that CI runs too -----------------------------------------------------
lint: setup-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	DEBUG=1 $(VENV)/bin/mypy kaunti
	$(VENV)/bin/lint-imports
	$(PY) scripts/check_layers.py
	$(MANAGE) makemigrations --check --dry-run
	scripts/check-deploy.sh

# Regenerate the lock files after editing pyproject.toml (needs `pip install uv`).
lock:
	uv lock
	uv export --frozen --no-dev --no-emit-project --format requirements-txt -o requirements.lock -q
	uv export --frozen --only-dev --no-emit-project --format requirements-txt -o requirements-dev.lock -q

# Extract and compile translations (needs GNU gettext); the .mo files are committed.
messages: setup
	cd kaunti && DEBUG=1 ../$(PY) ../manage.py makemessages -l sw --no-obsolete --no-location -i "static/*" -i "land/*" -i "ussd/*"
	for app in land ussd; do (cd kaunti/$$app && DEBUG=1 ../../$(PY) ../../manage.py makemessages -l sw --no-obsolete --no-location); done
	cd kaunti && DEBUG=1 ../$(PY) ../manage.py compilemessages -l sw

clean:
	rm -rf $(VENV) node_modules kaunti/static/build
