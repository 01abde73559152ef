# Two commands matter: `make run` (demo site on http://127.0.0.1:8000) and `make test`.
# Both create .venv and install the project first, with nothing but Python 3.11+.

SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PYTHON ?= $(shell for p in python3.13 python3.12 python3.11 python3; do \
	if command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; \
	then echo $$p; break; fi; done)
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install run test lint format messages clean serve loadtest faultcheck proxycheck bench \
	bench-quick

$(STAMP): pyproject.toml
	@if [ -z "$(PYTHON)" ]; then echo "error: Python 3.11 or newer is needed (python3.11+ on PATH)"; exit 1; fi
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -e ".[dev]"
	@touch $(STAMP)

install: $(STAMP)

# One Python process prepares and serves: migrate, load the demo if missing, print the admin
# login, runserver, and the background worker beside it (editorial/management/commands/
# devserver.py). collectstatic (11 s: whitenoise compresses every file) runs only when a
# static file or the installed packages changed. `make run PORT=8080` serves on another port.
STATIC_STAMP := var/static/.collected
run: install $(STATIC_STAMP)
	DEBUG=1 SITE_URL=http://$(HOST):$(PORT) $(PY) manage.py devserver $(HOST):$(PORT) \
	  --site-url http://$(HOST):$(PORT)

$(STATIC_STAMP): $(STAMP) $(shell find static -type f 2>/dev/null)
	DEBUG=1 $(PY) manage.py collectstatic --noinput --verbosity 0
	@touch $@

test: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	DJANGO_SETTINGS_MODULE=digestsite.test_settings $(PY) manage.py makemigrations --check --dry-run
	$(VENV)/bin/lint-imports --no-cache
	$(VENV)/bin/pytest

lint: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

# Regenerate the translation catalogue after changing UI strings, then edit
# locale/zh_Hans/LC_MESSAGES/django.po and run `make messages` again to compile it.
messages: install
	DEBUG=1 $(PY) manage.py makemessages --locale zh_Hans --ignore '.venv/*' --ignore 'var/*' --no-obsolete
	DEBUG=1 $(PY) manage.py compilemessages --locale zh_Hans --ignore '.venv/*'

clean:
	rm -rf $(VENV) var/static .pytest_cache .ruff_cache

# Benchmarks (results under var/bench/; docs/performance.md). Importing: 1,000 arXiv entries,
# 100 digests, in rolled-back transactions on the development database. Pages: reference views
# and every kind of page at 1,000 and 100,000 papers, in-process and under HTTP load (gunicorn,
# wrk), on SQLite files under var/bench/ or on the PostgreSQL database of DATABASE_URL (it
# must hold no other content; a second database <name>_small is made beside it).
# `make bench QUICK=1` (= `make bench-quick`) is the small smoke run CI uses.
BENCH_SIZES = $(if $(QUICK),--quick,)
bench: install
	DEBUG=1 $(PY) manage.py migrate --noinput --verbosity 0
	DEBUG=1 $(PY) manage.py bench_import $(if $(QUICK),--entries 100 --digests 10 --runs 1,)
	BENCH_COMMAND="make bench$(if $(QUICK), QUICK=1,)$(if $(DATABASE_URL), DATABASE_URL=...,)" \
	DJANGO_SETTINGS_MODULE=digestsite.bench_settings $(PY) manage.py bench $(BENCH_SIZES)

bench-quick:
	$(MAKE) bench QUICK=1

# The production stack, locally: collectstatic, migrate, gunicorn with gunicorn.conf.py and
# whitenoise, and the background worker beside it (stopped with gunicorn; it finishes its task
# first). Needs the production variables (SECRET_KEY, ALLOWED_HOSTS); plain HTTP unless
# SECURE_SSL_REDIRECT=1 is given. gunicorn listens on 127.0.0.1 only, whatever HOST says:
# readers come through nginx with deploy/nginx.conf (`make proxycheck` shows why).
SECURE_SSL_REDIRECT ?= 0
serve: install
	@if [ -z "$$SECRET_KEY" ] || [ -z "$$ALLOWED_HOSTS" ]; then \
	  echo "error: make serve runs the production settings: set SECRET_KEY and ALLOWED_HOSTS, e.g."; \
	  echo "  SECRET_KEY=\$$(python3 -c 'import secrets; print(secrets.token_urlsafe(50))') ALLOWED_HOSTS=127.0.0.1,localhost make serve"; \
	  exit 1; fi
	DEBUG=0 $(PY) manage.py collectstatic --noinput --verbosity 0
	DEBUG=0 $(PY) manage.py migrate --noinput
	trap 'kill -TERM $$worker 2>/dev/null; wait $$worker' EXIT; \
	DEBUG=0 $(PY) manage.py worker & worker=$$!; \
	DEBUG=0 SECURE_SSL_REDIRECT=$(SECURE_SSL_REDIRECT) GUNICORN_BIND=127.0.0.1:$(PORT) \
	  $(VENV)/bin/gunicorn --config gunicorn.conf.py

# Scripted production checks against 127.0.0.1 only (docs/operations.md). Not part of `make test`.
# Each starts its own servers (gunicorn; nginx; for loadtest and faultcheck a private
# PostgreSQL cluster and redis-server, which they stop on purpose); as root they install
# Debian's nginx, wrk and redis-server when missing.
loadtest: install
	$(PY) scripts/loadtest.py

faultcheck: install
	$(PY) scripts/faultcheck.py

proxycheck: install
	$(PY) scripts/proxycheck.py
