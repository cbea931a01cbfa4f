# Kallpa Travel · cacao routes of Cusco — developer commands (GNU make).
#
#   make run     migrate, load the demo content, serve http://127.0.0.1:8000/ (SQLite unless DATABASE_URL is set)
#   make test    pytest (PostgreSQL/Redis when DATABASE_URL/REDIS_URL are set, else SQLite); extra args: ARGS="-k money"
#   make e2e     real-browser end-to-end tests, axe-core and the Nu HTML checker (docs/testing.md)
#
# Everything else: `make help`.

SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV := .venv
VENV_PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-requirements
MANAGE := $(VENV_PY) manage.py
LOCAL_SETTINGS := DJANGO_SETTINGS_MODULE=cacaotours.settings.local
ARGS ?=
PORT ?= 8000

# Python 3.11 to build the virtualenv with: python3.11, or python3 when that is 3.11.
PYTHON ?= $(shell command -v python3.11 2>/dev/null || { python3 -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' 2>/dev/null && command -v python3; })

export PIP_DISABLE_PIP_VERSION_CHECK := 1

NODE_STAMP := node_modules/.installed-package-lock
# Generated, vendored or scratch folders that makemessages/compilemessages must not scan.
MESSAGES_IGNORE := $(foreach dir,.venv node_modules staticfiles e2e-artifacts test-results bench/results .test-media media,--ignore=$(dir))
# Address of pytest-django's live server for the browser tests (port 0: any free port).
E2E_LIVESERVER ?= 127.0.0.1:0

.PHONY: help venv install run test e2e bench worker beat lint fmt messages clean ci

help: ## list the targets
	@grep -E '^[a-z0-9]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "} {printf "  make %-9s %s\n", $$1, $$2}'

venv: $(STAMP) ## create .venv (Python 3.11) and install requirements-dev.txt
install: venv

# Re-installs only when a requirements file is newer than the stamp.
$(STAMP): requirements.txt requirements-dev.txt
	@if [ ! -x $(VENV_PY) ]; then \
		if [ -z "$(PYTHON)" ]; then echo "Python 3.11 not found: install python3.11 (or set PYTHON=/path/to/python3.11)." >&2; exit 1; fi; \
		echo "Creating $(VENV) with $(PYTHON)"; \
		$(PYTHON) -m venv $(VENV); \
	fi
	@$(VENV_PY) -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' || \
		{ echo "$(VENV) is not Python 3.11: remove it and run make again." >&2; exit 1; }
	$(VENV_PY) -m pip install --quiet -r requirements-dev.txt
	@touch $@

run: venv ## migrate, load demo content, runserver on 127.0.0.1:8000 (PORT=8001 for another port)
	$(LOCAL_SETTINGS) $(MANAGE) migrate --noinput
	$(LOCAL_SETTINGS) $(MANAGE) load_demo --base-url http://127.0.0.1:$(PORT)/
	$(LOCAL_SETTINGS) $(MANAGE) runserver 127.0.0.1:$(PORT)

test: venv ## run the test suite, without the browser tests (ARGS="..." passes extra pytest arguments)
	DJANGO_SETTINGS_MODULE=cacaotours.settings.test $(VENV_PY) -m pytest -m "not e2e" $(ARGS)

# axe-core and vnu-jar from package-lock.json (no install scripts: vnu.jar ships in the package).
$(NODE_STAMP): package.json package-lock.json
	npm ci --ignore-scripts --no-audit --no-fund
	@touch $@

e2e: venv $(NODE_STAMP) ## browser tests: Playwright + /usr/bin/chromium, axe-core, vnu (needs java; see docs/testing.md)
	@test -x "$${E2E_CHROMIUM:-/usr/bin/chromium}" || { echo "Chromium is missing: apt-get install -y chromium" >&2; exit 1; }
	DJANGO_SETTINGS_MODULE=cacaotours.settings.test DJANGO_ALLOW_ASYNC_UNSAFE=true \
		$(VENV_PY) -m pytest -m e2e --liveserver $(E2E_LIVESERVER) tests/e2e $(ARGS)

bench: venv ## benchmarks: catalog, booking rush, webhooks, revenue-share routing, leader portal (see bench/README.md)
	$(VENV_PY) bench/run.py $(ARGS)

worker: venv ## Celery worker (needs REDIS_URL)
	@test -n "$$REDIS_URL" || { echo "Set REDIS_URL (e.g. redis://127.0.0.1:6379/0): without it tasks run eagerly in the web process." >&2; exit 1; }
	$(VENV)/bin/celery -A cacaotours worker -l info

beat: venv ## Celery beat with the database scheduler (needs REDIS_URL)
	@test -n "$$REDIS_URL" || { echo "Set REDIS_URL (e.g. redis://127.0.0.1:6379/0): beat publishes to the Redis broker." >&2; exit 1; }
	$(VENV)/bin/celery -A cacaotours beat -l info --scheduler django_celery_beat.schedulers:DatabaseScheduler

lint: venv ## ruff check + ruff format --check
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

fmt: venv ## ruff format + ruff check --fix
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

messages: venv ## update locale/es from the sources and compile the .mo files
	$(LOCAL_SETTINGS) $(MANAGE) makemessages -l es --no-obsolete $(MESSAGES_IGNORE)
	$(LOCAL_SETTINGS) $(MANAGE) compilemessages -l es $(MESSAGES_IGNORE)

ci: ## the CI job: .ci/run (needs PostgreSQL and Redis on this machine)
	bash .ci/run

clean: ## remove caches and generated files (keeps .venv, db.sqlite3 and media/)
	find . -path ./.venv -prune -o -type d -name __pycache__ -print0 | xargs -0 rm -rf
	rm -rf .pytest_cache .ruff_cache .hypothesis staticfiles .test-media bench/results e2e-artifacts test-results
