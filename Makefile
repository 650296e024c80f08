# The project's front door. `make run` and `make test` each install what they need first.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV   := .venv
PY     := $(VENV)/bin/python
FLASK  := $(VENV)/bin/flask
PYTHON ?= python3.11
# Debian packages the project needs: a PostgreSQL server for the tests, Chromium for the browser tests.
APT_PACKAGES := postgresql chromium chromium-driver

export FLASK_APP := wsgi:app

.PHONY: help install system-packages python-packages assets run test test-fast lint clean

help:
	@echo "make run   - install everything, migrate instance/app.sqlite3, load demo data, serve on http://127.0.0.1:5000"
	@echo "make test  - install everything, then make lint and the whole test suite (unit, SQLite + PostgreSQL, browser)"
	@echo "make install | lint | clean"

install: system-packages python-packages assets

# Idempotent: apt runs only when a package is missing. PostgreSQL's binaries live under
# /usr/lib/postgresql/<version>/bin on Debian, so we look for pg_ctl there.
system-packages:
	@missing=""; \
	for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "Installing Debian packages:$$missing"; \
	  SUDO=""; [ "$$(id -u)" = 0 ] || SUDO="sudo"; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing; \
	fi

python-packages: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "Python 3.11 is required ($(PYTHON) not found)"; exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

assets: core/static/build/.built

core/static/build/.built: node_modules/.installed assets/build.mjs $(wildcard assets/*.scss)
	npm run --silent build
	touch $@

instance:
	mkdir -p instance

run: install instance
	FLASK_ENV=development $(FLASK) db upgrade
	FLASK_ENV=development $(FLASK) demo load --if-empty --history-days 182
	@# The background worker (Huey, queue in instance/huey.sqlite3) runs beside the server and stops with it.
	FLASK_ENV=development $(FLASK) match worker & worker=$$!; trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
	FLASK_ENV=development $(FLASK) run --host 127.0.0.1 --port 5000

test: install lint
	@# Unit and integration tests in two processes (each starts its own PostgreSQL and SQLite templates):
	@# the suite had grown to about 50 minutes in one. The browser tests run after them, on their own.
	$(PY) -m pytest -n 2 tests/unit tests/integration
	$(PY) -m pytest tests/e2e

# ruff's rules and format, and the layers as import-linter contracts (pyproject.toml [tool.importlinter]).
lint: python-packages
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports --no-cache

clean:
	rm -rf $(VENV) node_modules core/static/build test-artifacts
