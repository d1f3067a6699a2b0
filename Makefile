# PIPELINE training-jobs API. `make test` runs everything; see README.md.
SHELL := /bin/bash
.DEFAULT_GOAL := help

# Python 3.11 or 3.12 (the Lambda runtime is 3.12; pgserver has no 3.13 wheels yet).
PYTHON ?= $(shell for p in python3.12 python3.11 python3; do \
	command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(not (3, 11) <= sys.version_info[:2] <= (3, 12))' 2>/dev/null \
	&& { echo $$p; break; }; done)
VENV := .venv
VENV_PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: help venv test lint typecheck unit migrate schemas clean

help:
	@echo "make test      lint, type-check and run the whole test suite (installs what it needs)"
	@echo "make migrate   apply database migrations to DATABASE_URL"
	@echo "make schemas   regenerate schemas/ from the pydantic models"
	@echo "make clean     remove the virtual environment and caches"

# The venv is rebuilt only when a requirements file changes.
$(STAMP): requirements-dev.txt shared/requirements.txt
	@test -n "$(PYTHON)" || { echo "Python 3.11 or 3.12 is required (set PYTHON=...)" >&2; exit 1; }
	@test -x $(VENV_PY) || $(PYTHON) -m venv $(VENV)
	$(VENV_PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(VENV_PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@touch $(STAMP)

venv: $(STAMP)

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: $(STAMP)
	$(VENV)/bin/mypy shared functions tests

unit: $(STAMP)
	$(VENV)/bin/pytest

test: lint typecheck unit

migrate: $(STAMP)
	PYTHONPATH=shared $(VENV_PY) -m pipeline.migrate

schemas: $(STAMP)
	PYTHONPATH=shared $(VENV_PY) -m pipeline.message_schema > schemas/training_job.queued.v1.schema.json

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
