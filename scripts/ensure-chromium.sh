#!/usr/bin/env bash
# Make sure Debian's Chromium (and ChromeDriver) is installed for the browser tests.
#
# Playwright cannot download its own browser build on our machines, so the tests drive
# /usr/bin/chromium through executable_path. Idempotent: does nothing when all is there.
set -euo pipefail

CHROMIUM="${TIERLINE_CHROMIUM:-/usr/bin/chromium}"
# fonts-liberation: metric-compatible Arial/Helvetica/Times, so screenshots look like a desktop's.
PACKAGES=(chromium chromium-driver fonts-liberation)

missing=()
for pkg in "${PACKAGES[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
        missing+=("$pkg")
    fi
done

if [ "${#missing[@]}" -gt 0 ]; then
    echo "ensure-chromium: installing ${missing[*]}"
    SUDO=""
    if [ "$(id -u)" -ne 0 ]; then
        if command -v sudo >/dev/null 2>&1; then
            SUDO="sudo -n"
        else
            echo "ensure-chromium: not root and no sudo; install ${missing[*]} yourself" >&2
            exit 1
        fi
    fi
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update -qq
    # --no-install-recommends keeps out audio and desktop-integration packages we never use.
    $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" </dev/null
fi

# Prove it starts, not only that the file exists. (Debian's wrapper script may print a
# harmless shell warning on stderr; it is dropped.)
if ! version="$("$CHROMIUM" --headless --no-sandbox --disable-gpu --version 2>/dev/null)"; then
    echo "ensure-chromium: $CHROMIUM is installed but does not run" >&2
    exit 1
fi
echo "ensure-chromium: $version ($CHROMIUM)"
