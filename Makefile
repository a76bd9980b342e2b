# Chores. `make test` checks the layers, then runs every test: on SQLite, then on PostgreSQL.
# `make test-fast` runs the tests that start no process (`-m "not slow"`), on SQLite.
VENV ?= .venv
PY := $(VENV)/bin/python
PG_URL ?= postgres://postgres@127.0.0.1:5432
PYTEST_ARGS ?= -n 2

.PHONY: test test-fast imports test-sqlite test-postgres lint typecheck migrations-check bench demo messages

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -e ".[test]"
	touch $@

test: imports test-sqlite test-postgres

# The import-linter contracts in pyproject.toml: the layers, the format a leaf, no cycles.
imports: $(VENV)/.installed
	$(VENV)/bin/lint-imports

test-sqlite: $(VENV)/.installed
	INUK_DATABASE_URL= INUK_VAULT_DATABASE_URL= $(VENV)/bin/pytest $(PYTEST_ARGS)

# Python may keep the compiled (and assertion-rewritten) tests between runs, which halves the
# collection; the schemathesis module is all slow, and only building its tests takes seconds.
test-fast: $(VENV)/.installed
	INUK_DATABASE_URL= INUK_VAULT_DATABASE_URL= PYTHONDONTWRITEBYTECODE= $(VENV)/bin/pytest \
		$(PYTEST_ARGS) -m "not slow" --ignore=tests/api/test_schemathesis.py

test-postgres: $(VENV)/.installed
	INUK_DATABASE_URL=$(PG_URL)/inuk INUK_VAULT_DATABASE_URL=$(PG_URL)/inuk_vault \
		$(VENV)/bin/pytest $(PYTEST_ARGS)

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check src tests bench
	$(VENV)/bin/ruff format --check src tests bench
	$(VENV)/bin/lint-imports

typecheck: $(VENV)/.installed
	$(VENV)/bin/mypy

migrations-check: $(VENV)/.installed
	INUK_DATA_DIR=$$(mktemp -d) $(VENV)/bin/inuk makemigrations --check --dry-run

bench: $(VENV)/.installed
	$(PY) bench/validate.py
	$(PY) bench/ingest.py
	$(PY) bench/ledger_apply.py
	$(PY) bench/stats.py
	$(PY) bench/pages.py
	$(PY) bench/erasure.py

demo: $(VENV)/.installed
	$(VENV)/bin/inuk demo

messages:
	cd src/inuk && ../../$(VENV)/bin/django-admin makemessages -l sv --no-obsolete && ../../$(VENV)/bin/django-admin compilemessages
