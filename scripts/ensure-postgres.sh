#!/usr/bin/env bash
# Make sure a PostgreSQL server answers on 127.0.0.1:5432 and that the URL the tests use,
# postgresql://postgres@127.0.0.1:5432/, connects without a password.
#
# On our machines a cluster is already installed and running with trust auth: this script then
# only checks. On a bare Debian machine it installs PostgreSQL, starts the cluster and lets local
# TCP connections from 127.0.0.1 in without a password (a throwaway test server, never production).
# Idempotent.
set -euo pipefail

HOST="${TIERLINE_PG_HOST:-127.0.0.1}"
PORT="${TIERLINE_PG_PORT:-5432}"

log() { echo "ensure-postgres: $*"; }

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
        SUDO="sudo -n"
    fi
fi

ready() { pg_isready -q -h "$HOST" -p "$PORT" -t 3 >/dev/null 2>&1; }

wait_ready() {
    for _ in $(seq 1 30); do
        ready && return 0
        sleep 1
    done
    return 1
}

if command -v pg_isready >/dev/null 2>&1 && ready; then
    log "PostgreSQL already accepting connections on $HOST:$PORT"
else
    if ! ls /etc/postgresql/*/main >/dev/null 2>&1; then
        log "no PostgreSQL cluster found; installing Debian's postgresql"
        export DEBIAN_FRONTEND=noninteractive
        $SUDO apt-get update -qq
        $SUDO apt-get install -y -qq postgresql postgresql-client </dev/null
        FRESH=1
    fi
    VERSION="$(ls /etc/postgresql | sort -V | tail -n 1)"
    if [ "${FRESH:-0}" = 1 ]; then
        # A fresh Debian cluster asks for a password over TCP (scram). Trust loopback so the
        # test URL without a password works, like on our prepared machines.
        HBA="/etc/postgresql/$VERSION/main/pg_hba.conf"
        if ! grep -q 'tierline-test-trust' "$HBA"; then
            log "trusting 127.0.0.1 and ::1 in $HBA"
            tmp="$(mktemp)"
            {
                echo "# tierline-test-trust: local test server, no passwords on loopback"
                echo "host    all    all    127.0.0.1/32    trust"
                echo "host    all    all    ::1/128         trust"
                $SUDO cat "$HBA"
            } >"$tmp"
            $SUDO cp "$tmp" "$HBA"
            rm -f "$tmp"
        fi
    fi
    log "starting cluster $VERSION/main"
    $SUDO pg_ctlcluster --skip-systemctl-redirect "$VERSION" main start || true
    if ! wait_ready; then
        log "PostgreSQL did not come up on $HOST:$PORT" >&2
        exit 1
    fi
    if [ "${FRESH:-0}" = 1 ]; then
        # Reload so a running cluster reads the new pg_hba.conf too.
        $SUDO pg_ctlcluster --skip-systemctl-redirect "$VERSION" main reload || true
    fi
    log "PostgreSQL accepting connections on $HOST:$PORT"
fi

# The server answering is not enough: the tests connect as postgres without a password.
if ! psql "postgresql://postgres@$HOST:$PORT/postgres" -XAtqc 'select 1' >/dev/null 2>&1; then
    log "cannot connect as postgres@$HOST:$PORT without a password" >&2
    log "allow it in pg_hba.conf (host all all 127.0.0.1/32 trust) for this test server" >&2
    exit 1
fi
log "postgresql://postgres@$HOST:$PORT/ connects"
