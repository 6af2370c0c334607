# KiJuFaZ build, test and maintenance targets (GNU make).
#
#   make run      install, migrate, seed demo data, serve on http://127.0.0.1:$(PORT)
#   make test     install, lint, migration check, pytest (PostgreSQL if reachable)
#   make help     list all targets

SHELL := /bin/bash
.DEFAULT_GOAL := help

PORT ?= 8000
VENV := .venv
PY := $(VENV)/bin/python
MANAGE := $(PY) manage.py
VENV_STAMP := $(VENV)/.installed
NODE_STAMP := node_modules/.installed

# PostgreSQL used by `make test` unless DATABASE_URL is set in the environment.
TEST_DATABASE_URL := $(or $(DATABASE_URL),postgres://root@127.0.0.1:5432/kijufaz)
# Fallback when PostgreSQL is unreachable outside CI (never used under CI=true).
SQLITE_TEST_DATABASE_URL := sqlite://:memory:
PYTEST_ARGS ?=

# Directories that are not ours (translations, bandit, ...).
I18N_IGNORE := --ignore=.venv --ignore=node_modules --ignore=staticfiles

.PHONY: help venv install run test lint format messages audit bandit bench load clean

help:
	@echo "Targets:"
	@echo "  make run       install, migrate, seed demo users, serve on http://127.0.0.1:$(PORT)"
	@echo "  make test      ruff, migration check and pytest (PYTEST_ARGS='...' for extra args)"
	@echo "  make lint      ruff check + ruff format --check"
	@echo "  make format    ruff format + ruff check --fix"
	@echo "  make messages  makemessages (de, en) + compilemessages"
	@echo "  make audit     known vulnerabilities of the installed dependencies (PyPI; see docs)"
	@echo "  make bandit    static security scan with bandit"
	@echo "  make bench     page timings and query counts on \$$BENCH_DATABASE_URL (not in make test)"
	@echo "  make load      50 users against gunicorn for 60 s on \$$BENCH_DATABASE_URL (not in make test)"
	@echo "  make clean     remove .venv, node_modules, caches and collected static files"

# ---------------------------------------------------------------------------
# Installation
# ---------------------------------------------------------------------------

venv install: $(VENV_STAMP) $(NODE_STAMP)

# Create the virtualenv with the first Python >= 3.12 that really runs.
# $(PYTHON) (if given) is tried first, then python3.13 and python3.12 on PATH
# (a pyenv shim for a version that is not selected fails and is skipped), then
# the interpreters pyenv has installed.
$(PY):
	@found=""; \
	candidates="$(PYTHON) python3.13 python3.12"; \
	if command -v pyenv >/dev/null 2>&1; then \
	  root="$$(pyenv root)"; \
	  candidates="$$candidates $$(ls -d "$$root"/versions/3.1[23]*/bin/python 2>/dev/null | sort -rV)"; \
	fi; \
	for c in $$candidates; do \
	  if "$$c" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' >/dev/null 2>&1; then \
	    found="$$c"; break; \
	  fi; \
	done; \
	if [ -z "$$found" ]; then \
	  echo "ERROR: no Python >= 3.12 found (tried: $$candidates)." >&2; \
	  echo "       Install Python 3.12 or 3.13, or run: make PYTHON=/path/to/python3.12 ..." >&2; \
	  exit 1; \
	fi; \
	echo "Creating $(VENV) with $$found ($$("$$found" -V 2>&1))"; \
	"$$found" -m venv $(VENV)

$(VENV_STAMP): pyproject.toml | $(PY)
	@$(PY) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' || { \
	  echo "ERROR: $(VENV) uses $$($(PY) -V 2>&1); Python >= 3.12 is required. Run 'make clean' and retry." >&2; \
	  exit 1; }
	@echo "Installing Python dependencies into $(VENV) (pip install -e '.[dev]') ..."
	$(PY) -m pip install --disable-pip-version-check -q -e '.[dev]'
	@touch $@

$(NODE_STAMP): package.json package-lock.json
	@command -v npm >/dev/null 2>&1 || { echo "ERROR: npm not found; install Node.js and npm." >&2; exit 1; }
	npm ci --no-audit --no-fund
	@touch $@

# ---------------------------------------------------------------------------
# Development server (embedded defaults: SQLite db.sqlite3, Celery tasks run eagerly)
# ---------------------------------------------------------------------------

# DATABASE_URL and CELERY_BROKER_URL are removed from the environment on
# purpose: `make run` always uses the embedded defaults. The demo accounts sign in
# without a second factor (production requires one: KIJUFAZ_REQUIRE_2FA).
RUN_ENV := env -u DATABASE_URL -u CELERY_BROKER_URL KIJUFAZ_REQUIRE_2FA=false

run: install
	$(RUN_ENV) $(MANAGE) migrate --noinput
	@if command -v msgfmt >/dev/null 2>&1 && [ -n "$$(find locale -name '*.po' 2>/dev/null)" ]; then \
	  $(RUN_ENV) $(MANAGE) compilemessages $(I18N_IGNORE) -v 0; \
	fi
	$(RUN_ENV) $(MANAGE) seed_demo
	$(RUN_ENV) $(MANAGE) runserver 127.0.0.1:$(PORT)

# ---------------------------------------------------------------------------
# Tests
# ---------------------------------------------------------------------------

# Exit 0 if the PostgreSQL server of $$DATABASE_URL accepts a connection to its
# `postgres` database; otherwise print the reason and exit 1.
define PG_PROBE
import os, sys
import dj_database_url, psycopg2
cfg = dj_database_url.parse(os.environ["DATABASE_URL"])
if "postgresql" not in cfg["ENGINE"]:
    sys.exit("DATABASE_URL is not a PostgreSQL URL")
try:
    psycopg2.connect(
        dbname="postgres",
        host=cfg.get("HOST") or None,
        port=cfg.get("PORT") or None,
        user=cfg.get("USER") or None,
        password=cfg.get("PASSWORD") or None,
        connect_timeout=3,
    ).close()
except psycopg2.Error as exc:
    sys.exit(str(exc).strip())
endef
export PG_PROBE

# Bandit over our own code, medium severity and up (as tests/core/test_security_scan.py).
BANDIT_ARGS := -q -ll -r core cases providers budgets controlling kijufaz -x 'tests,*/migrations/*'

test: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/bandit $(BANDIT_ARGS)
	$(PY) scripts/dependency_audit.py --network-optional
	DATABASE_URL=$(SQLITE_TEST_DATABASE_URL) $(MANAGE) makemigrations --check --dry-run
	@shown_url="$$(printf '%s' '$(TEST_DATABASE_URL)' | sed -E 's#//([^:@/]*):[^@/]*@#//\1:***@#')"; \
	if DATABASE_URL='$(TEST_DATABASE_URL)' $(PY) -c "$$PG_PROBE"; then \
	  echo "Testing against PostgreSQL at $$shown_url"; \
	  export DATABASE_URL='$(TEST_DATABASE_URL)'; \
	  unset KIJUFAZ_TEST_DB; \
	elif [ "$${CI:-}" = "true" ]; then \
	  echo "ERROR: CI=true and PostgreSQL at $$shown_url is not reachable." >&2; \
	  echo "       CI must test against PostgreSQL; start it (see .ci/run) or set DATABASE_URL." >&2; \
	  exit 1; \
	else \
	  echo ""; \
	  echo "*****************************************************************************"; \
	  echo "* WARNING: PostgreSQL at $$shown_url is not reachable."; \
	  echo "* Falling back to SQLite: tests marked 'postgres' will be SKIPPED."; \
	  echo "* Start PostgreSQL or set DATABASE_URL=postgres://... to run the full suite."; \
	  echo "*****************************************************************************"; \
	  echo ""; \
	  export DATABASE_URL='$(SQLITE_TEST_DATABASE_URL)' KIJUFAZ_TEST_DB=sqlite; \
	fi; \
	$(VENV)/bin/pytest -n 2 --dist loadfile $(PYTEST_ARGS)

# ---------------------------------------------------------------------------
# Code quality and translations
# ---------------------------------------------------------------------------

lint: $(VENV_STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(VENV_STAMP)
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

messages: $(VENV_STAMP)
	$(MANAGE) makemessages -l de -l en $(I18N_IGNORE)
	$(MANAGE) compilemessages $(I18N_IGNORE)

# ---------------------------------------------------------------------------
# Security checks (`make test` runs the dependency audit too, bandit as well)
# ---------------------------------------------------------------------------

# scripts/dependency_audit.py checks every installed package against PyPI's project
# JSON (known vulnerabilities of the latest release, yanked releases) and runs
# pip-audit as well where PyPI's per-version API answers (pip-audit needs it). Findings
# fail unless security/audit-allowlist.toml justifies them with an expiry date; the
# script prints what it could not check. Here an unreachable PyPI fails (exit 3);
# `make test` passes --network-optional, so there it is a loud warning instead.
# pip-audit is installed into the venv on demand (if that fails, the audit still runs).
audit: $(VENV_STAMP)
	@$(PY) -m pip_audit --version >/dev/null 2>&1 || $(PY) -m pip install --disable-pip-version-check -q pip-audit || true
	$(PY) scripts/dependency_audit.py

# Static security scan of our own code (bandit is installed on demand).
bandit: $(VENV_STAMP)
	@$(VENV)/bin/bandit --version >/dev/null 2>&1 || $(PY) -m pip install --disable-pip-version-check -q bandit
	$(VENV)/bin/bandit $(BANDIT_ARGS)

# ---------------------------------------------------------------------------
# Benchmarks (never part of `make test`; see docs/BENCHMARKS.md)
# ---------------------------------------------------------------------------

# The PostgreSQL database with the city data set (`manage.py seed_demo --scale city`).
BENCH_DATABASE_URL ?= postgres://root@127.0.0.1:5432/kijufaz_city
export BENCH_DATABASE_URL

bench: install
	$(PY) benchmarks/bench.py

load: install
	$(PY) benchmarks/load.py

# ---------------------------------------------------------------------------

# Keeps db.sqlite3 (demo database) and media/ (uploaded files).
clean:
	rm -rf $(VENV) node_modules staticfiles .pytest_cache .ruff_cache test-results *.egg-info
	find . -name __pycache__ -type d -prune -not -path './.git/*' -exec rm -rf {} +
