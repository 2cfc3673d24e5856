#!/usr/bin/env bash
# Make sure a Redis server answers on 127.0.0.1:6379 for the worker tests (tests/core/test_redis_*).
#
# On our machines Redis is usually running already: this script then only checks. Otherwise it
# installs Debian's redis-server if missing and starts a throwaway instance: loopback only, no
# persistence (the tests use their own key prefix and clean up after themselves). Idempotent.
set -euo pipefail

HOST="${TIERLINE_REDIS_HOST:-127.0.0.1}"
PORT="${TIERLINE_REDIS_PORT:-6379}"

log() { echo "ensure-redis: $*"; }

SUDO=""
if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1; then
    SUDO="sudo -n"
fi

# PING over bash's /dev/tcp: no redis-cli needed.
ready() {
    local reply=""
    { exec 3<>"/dev/tcp/$HOST/$PORT"; } 2>/dev/null || return 1
    printf 'PING\r\n' >&3
    read -r -t 2 reply <&3 || true
    exec 3<&- 3>&-
    [[ "$reply" == "+PONG"* ]]
}

if ready; then
    log "Redis already answering on $HOST:$PORT"
    exit 0
fi

if ! command -v redis-server >/dev/null 2>&1; then
    log "redis-server not found; installing Debian's redis-server"
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update -qq
    $SUDO apt-get install -y -qq redis-server </dev/null
    # The package may start its own service: use it if it answers.
    for _ in $(seq 1 5); do
        ready && { log "Redis answering on $HOST:$PORT"; exit 0; }
        sleep 1
    done
fi

log "starting redis-server on $HOST:$PORT (no persistence)"
redis-server --daemonize yes --bind "$HOST" --port "$PORT" --save "" --appendonly no \
    --logfile "${TMPDIR:-/tmp}/tierline-redis-$PORT.log"
for _ in $(seq 1 30); do
    if ready; then
        log "Redis answering on $HOST:$PORT"
        exit 0
    fi
    sleep 1
done
log "Redis did not come up on $HOST:$PORT (see ${TMPDIR:-/tmp}/tierline-redis-$PORT.log)" >&2
exit 1
