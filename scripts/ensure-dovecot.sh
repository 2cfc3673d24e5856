#!/usr/bin/env bash
# Make sure Debian's Dovecot IMAP server is installed for the IMAP intake tests.
#
# The tests never use the system's Dovecot service: each test session starts a private
# instance (its own config in a temporary folder, a passwd-file, a loopback port, a temporary
# mail store, run as the current user) and stops it afterwards (tests/mail/dovecot.py).
# This script only installs the binaries when they are missing. Idempotent.
set -euo pipefail

PACKAGES=(dovecot-core dovecot-imapd)

missing=()
for pkg in "${PACKAGES[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
        missing+=("$pkg")
    fi
done

if [ "${#missing[@]}" -gt 0 ]; then
    echo "ensure-dovecot: installing ${missing[*]}"
    SUDO=""
    if [ "$(id -u)" -ne 0 ]; then
        if command -v sudo >/dev/null 2>&1; then
            SUDO="sudo -n"
        else
            echo "ensure-dovecot: not root and no sudo; install ${missing[*]} yourself" >&2
            exit 1
        fi
    fi
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update -qq
    $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" </dev/null
fi

DOVECOT="$(command -v dovecot || echo /usr/sbin/dovecot)"
if ! version="$("$DOVECOT" --version 2>/dev/null)"; then
    echo "ensure-dovecot: $DOVECOT is installed but does not run" >&2
    exit 1
fi
echo "ensure-dovecot: Dovecot $version ($DOVECOT)"
