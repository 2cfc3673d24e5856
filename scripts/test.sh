#!/usr/bin/env bash
# Tierline's gates, in the order a reviewer would ask for them:
#
#   1. ruff check, ruff format --check          (src tests bench scripts agent)
#      import layers (lint-imports), each app writes only its own models
#   2. django-admin check, makemigrations --check --dry-run
#   3. pytest on SQLite                         (TIERLINE_DATABASE_URL unset)
#   4. pytest on PostgreSQL                     (TIERLINE_DATABASE_URL=$TIERLINE_TEST_DATABASE_URL),
#      when that server is reachable; required when TIERLINE_REQUIRE_POSTGRES=1 (CI sets it)
#
# Every gate runs even when an earlier one failed, so one run shows everything that is wrong.
# Exits non-zero if any gate failed, or if pytest collected no tests (exit 5 is never success here).
# Extra arguments go to both pytest runs:  scripts/test.sh -k escalate -x
#
# Environment:
#   VENV                         virtualenv to use (default .venv)
#   TIERLINE_TEST_DATABASE_URL   PostgreSQL for run 4 (default postgresql://postgres@127.0.0.1:5432/tierline_test;
#                                pytest-django creates and drops test_<name> on that server)
#   TIERLINE_REQUIRE_POSTGRES    1: an unreachable PostgreSQL fails the run instead of skipping it
#   TIERLINE_TEST_DATA_DIR       data dir for the checks and tests (default: a fresh temporary dir)
#   TIERLINE_TEST_REDIS_URL      Redis for the worker tests (default redis://127.0.0.1:6379/11)
#   TIERLINE_REQUIRE_REDIS       1: an unreachable Redis fails the worker tests instead of skipping them
set -uo pipefail

cd "$(dirname "$0")/.."
ROOT="$PWD"
VENV="${VENV:-.venv}"
PY="$VENV/bin/python"
PG_URL="${TIERLINE_TEST_DATABASE_URL:-postgresql://postgres@127.0.0.1:5432/tierline_test}"
REQUIRE_PG="${TIERLINE_REQUIRE_POSTGRES:-0}"

if [ ! -x "$PY" ]; then
    echo "test.sh: $PY not found; run 'make .venv' first" >&2
    exit 2
fi

WORK="$(mktemp -d -t tierline-test.XXXXXX)"
trap 'rm -rf "$WORK"' EXIT
# Tests never touch the demo's ./var: they get their own data dir (attachments, SQLite file, ...).
export TIERLINE_DATA_DIR="${TIERLINE_TEST_DATA_DIR:-$WORK/data}"
mkdir -p "$TIERLINE_DATA_DIR"
export DJANGO_SETTINGS_MODULE="${DJANGO_SETTINGS_MODULE:-tierline.settings}"
export PYTHONDONTWRITEBYTECODE=1
# The run on SQLite must not inherit a database URL from the caller's shell.
CALLER_DB_URL="${TIERLINE_DATABASE_URL:-}"
unset TIERLINE_DATABASE_URL
if [ -n "$CALLER_DB_URL" ]; then
    echo "test.sh: note: ignoring TIERLINE_DATABASE_URL from the environment;" \
        "set TIERLINE_TEST_DATABASE_URL to choose the PostgreSQL server"
fi

# Nor a Redis URL: the suite runs on the embedded defaults (in-process cache and tasks); the Redis
# worker tests bring their own (TIERLINE_TEST_REDIS_URL, a key prefix per test).
if [ -n "${TIERLINE_REDIS_URL:-}" ]; then
    echo "test.sh: note: ignoring TIERLINE_REDIS_URL from the environment;" \
        "set TIERLINE_TEST_REDIS_URL to choose the Redis of the worker tests"
fi
unset TIERLINE_REDIS_URL

declare -a RESULTS=()
FAILED=0
TOTAL_PASSED=0
TOTAL_FAILED=0
TOTAL_SKIPPED=0

banner() { printf '\n======== %s ========\n' "$*"; }

record() { # record NAME STATUS
    RESULTS+=("$(printf '%-44s %s' "$1" "$2")")
    case "$2" in ok* | skipped*) ;; *) FAILED=1 ;; esac
}

gate() { # gate NAME COMMAND...
    local name="$1"
    shift
    banner "$name"
    echo "+ $*"
    if "$@"; then record "$name" ok; else record "$name" "FAILED (exit $?)"; fi
}

# Which database Django actually opens with the current environment: proves the URL was honoured.
db_in_use() {
    "$PY" - <<'EOF'
import django
from django.db import connection

django.setup()
s = connection.settings_dict
where = s["NAME"] if connection.vendor == "sqlite" else f"{s['HOST']}:{s['PORT']}/{s['NAME']}"
print(f"{connection.vendor} {where}")
EOF
}

# Counts from pytest's JUnit XML, so the closing line can add up both runs.
junit_counts() { # junit_counts FILE -> "passed failed skipped"
    "$PY" - "$1" <<'EOF'
import sys
import xml.etree.ElementTree as ET

root = ET.parse(sys.argv[1]).getroot()
suites = [root] if root.tag == "testsuite" else root.findall("testsuite")
tests = failed = skipped = 0
for s in suites:
    tests += int(s.get("tests", 0))
    failed += int(s.get("failures", 0)) + int(s.get("errors", 0))
    skipped += int(s.get("skipped", 0))
print(tests - failed - skipped, failed, skipped)
EOF
}

run_pytest() { # run_pytest LABEL EXPECTED_VENDOR [pytest args...]
    local label="$1" vendor="$2"
    shift 2
    local name="pytest on $label"
    local xml="$WORK/junit-${vendor}.xml"
    banner "$name"
    local seen
    if ! seen="$(db_in_use)"; then
        echo "test.sh: Django could not start to report its database"
        record "$name" "FAILED (settings did not load)"
        return
    fi
    echo "database: $seen  (pytest-django tests on its own test_ copy of it)"
    if [ "${seen%% *}" != "$vendor" ]; then
        echo "test.sh: expected a $vendor database, Django uses '$seen'"
        echo "test.sh: do the settings read TIERLINE_DATABASE_URL?"
        record "$name" "FAILED (wrong database: ${seen%% *})"
        return
    fi
    echo "+ pytest --junitxml=... $*"
    "$PY" -m pytest --junitxml="$xml" -o junit_family=xunit2 "$@"
    local rc=$?
    local counts=""
    if [ -s "$xml" ] && counts="$(junit_counts "$xml")"; then
        local p f s
        read -r p f s <<<"$counts"
        TOTAL_PASSED=$((TOTAL_PASSED + p))
        TOTAL_FAILED=$((TOTAL_FAILED + f))
        TOTAL_SKIPPED=$((TOTAL_SKIPPED + s))
        counts=" ($p passed, $f failed, $s skipped)"
    fi
    case "$rc" in
        0) record "$name" "ok$counts" ;;
        5)
            echo "test.sh: pytest collected no tests on $label; that is a failure here"
            record "$name" "FAILED (no tests collected)"
            ;;
        *) record "$name" "FAILED (exit $rc)$counts" ;;
    esac
}

postgres_reachable() { # connects to the server's 'postgres' database, not the test one
    TIERLINE_PG_PROBE_URL="$PG_URL" "$PY" - <<'EOF'
import os
import sys

import psycopg
from psycopg.conninfo import conninfo_to_dict

params = conninfo_to_dict(os.environ["TIERLINE_PG_PROBE_URL"])
params["dbname"] = "postgres"
params["connect_timeout"] = 3
try:
    psycopg.connect(**params).close()
except psycopg.Error as exc:
    print(f"not reachable: {str(exc).strip().splitlines()[0]}")
    sys.exit(1)
EOF
}

redact() { # hide a password in a URL before printing it
    sed -E 's#(://[^:/@]+):[^@]*@#\1:***@#' <<<"$1"
}

# ---- 1. lint -------------------------------------------------------------------------------
LINT_PATHS=()
for d in src tests bench scripts agent; do [ -d "$d" ] && LINT_PATHS+=("$d"); done
gate "ruff check" "$VENV/bin/ruff" check "${LINT_PATHS[@]}"
gate "ruff format --check" "$VENV/bin/ruff" format --check "${LINT_PATHS[@]}"

# ---- 1b. the house's layers ------------------------------------------------------------------
# import-linter: the contract in pyproject.toml (core < people < desk < domain apps < portal < wiring);
# and no app's code writes another app's models.
gate "import layers (lint-imports)" "$VENV/bin/lint-imports" --no-cache
gate "each app writes only its own models" "$PY" scripts/check_model_writes.py src/tierline

# ---- 2. Django's own checks -------------------------------------------------------------------
gate "django check" "$VENV/bin/django-admin" check
gate "makemigrations --check --dry-run" "$VENV/bin/django-admin" makemigrations --check --dry-run

# ---- 3. tests on SQLite --------------------------------------------------------------------
run_pytest "SQLite" sqlite "$@"

# ---- 4. tests on PostgreSQL ----------------------------------------------------------------
SHOWN_URL="$(redact "$PG_URL")"
printf '\nPostgreSQL: checking %s\n' "$SHOWN_URL"
if postgres_reachable; then
    export TIERLINE_DATABASE_URL="$PG_URL"
    run_pytest "PostgreSQL" postgresql "$@"
    unset TIERLINE_DATABASE_URL
elif [ "$REQUIRE_PG" = 1 ]; then
    record "pytest on PostgreSQL" "FAILED (not reachable: $SHOWN_URL)"
else
    echo "PostgreSQL not reachable: skipping that run (TIERLINE_REQUIRE_POSTGRES=1 makes it fatal)"
    record "pytest on PostgreSQL" "skipped (not reachable: $SHOWN_URL)"
fi

# ---- summary -------------------------------------------------------------------------------
banner "summary"
for line in "${RESULTS[@]}"; do echo "$line"; done
echo
if [ "$FAILED" = 0 ]; then echo "all gates passed"; else echo "SOME GATES FAILED"; fi
# Last line: the tests of both runs added up, in the plain form CI reads.
echo "tests: $TOTAL_PASSED passed, $TOTAL_FAILED failed, $TOTAL_SKIPPED skipped"
exit "$FAILED"
