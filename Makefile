# Kehittämö — everything a newcomer needs is `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
# Printed and mailed links point here.
SITE_URL ?= http://$(HOST):$(PORT)
export SITE_URL
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: run test test-faults lint format worker beat install install-dev chromium wrk migrate demo messages bench clean

$(BIN)/python:
	@$(PYTHON) -c 'import ensurepip' 2>/dev/null || { $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq python3-venv; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.installed: requirements.txt | $(BIN)/python
	$(BIN)/pip install -q -r requirements.txt
	@touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt $(VENV)/.installed
	$(BIN)/pip install -q -r requirements-dev.txt
	@touch $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

migrate: install
	$(BIN)/python manage.py migrate --noinput

demo: migrate
	$(BIN)/python manage.py load_demo

## Install, migrate, load the demo workshop and serve it on http://$(HOST):$(PORT)
run: demo
	@echo "Serving Kehittämö on http://$(HOST):$(PORT)  (Ctrl+C stops)"
	@# The app writes its own access log (with join tokens redacted), so Daphne's is off.
	$(BIN)/daphne --access-log /dev/null -b $(HOST) -p $(PORT) config.asgi:application

## A real Celery worker (needs REDIS_URL; without it tasks run eagerly in the web process)
worker: install
	$(BIN)/celery -A config worker --loglevel=INFO --concurrency=2

## The scheduler of the daily jobs (retention, expired exports); run exactly one
beat: install
	$(BIN)/celery -A config beat --loglevel=INFO --schedule=$${TMPDIR:-/tmp}/kehittamo-celerybeat-schedule

wrk:
	@command -v wrk >/dev/null || { echo "Installing wrk, the HTTP load of the H1 benchmark"; \
		$(SUDO) apt-get update -qq && $(SUDO) DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk; }

chromium:
	@if [ ! -x /usr/bin/chromium ]; then \
		echo "Installing Chromium for the browser tests"; \
		$(SUDO) apt-get update -qq && $(SUDO) DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	fi
	@command -v msgfmt >/dev/null || { $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq gettext; }
	@# LibreOffice Calc opens the exported workbooks in the export tests
	@command -v soffice >/dev/null || { echo "Installing LibreOffice Calc for the export tests"; \
		$(SUDO) apt-get update -qq && $(SUDO) DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libreoffice-calc-nogui; }

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python manage.py makemigrations --check --dry-run
	@# security linter over the app's code (config in pyproject.toml); any high-severity finding fails
	$(BIN)/bandit -c pyproject.toml -r . -q --severity-level high

format: install-dev
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

## Install what the tests need and run the whole suite (unit, consumer, browser)
# Two workers (pytest-xdist), one per core of a small machine: the tests wait on servers and browsers a third
# of the time. TEST_WORKERS=0 runs them in one process.
TEST_WORKERS ?= 2
test: install-dev chromium lint
	$(BIN)/python -m pytest -n $(TEST_WORKERS) $(PYTEST_ARGS)

## The slow attacks: fault injection on the real stack and thousands of generated inputs (tests marked `faults`)
test-faults: install-dev chromium
	$(BIN)/python -m pytest --faults -m faults $(PYTEST_ARGS)

messages: install-dev
	$(BIN)/python manage.py makemessages -l fi -l sv --no-location --ignore=.venv --ignore=tests --ignore=bench
	$(BIN)/python manage.py compilemessages -l fi -l sv --ignore=.venv

## Benchmarks: the rotation planner, then the suite (python -m bench: baselines, S1–S7, H1, E1, X1; docs/performance.md)
bench: install-dev wrk
	$(BIN)/python bench/bench_planner.py
	$(BIN)/python -m bench $(BENCH_ARGS)

clean:
	rm -rf $(VENV) staticfiles .pytest_cache .ruff_cache
