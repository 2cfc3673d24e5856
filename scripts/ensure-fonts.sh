#!/usr/bin/env bash
# Make sure Debian's DejaVu fonts are installed: the estate report and label PDFs
# (src/tierline/assets/pdf.py) write names in any script with DejaVu Sans. Without them the
# PDFs still render, in Helvetica with non-Latin-1 text as "?", and the PDF tests fail.
# Idempotent: does nothing when all is there.
set -euo pipefail

PACKAGES=(fonts-dejavu-core)
FONT_DIR="${TIERLINE_PDF_FONT_DIR:-/usr/share/fonts/truetype/dejavu}"

missing=()
for pkg in "${PACKAGES[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
        missing+=("$pkg")
    fi
done

if [ "${#missing[@]}" -gt 0 ]; then
    echo "ensure-fonts: installing ${missing[*]}"
    SUDO=""
    if [ "$(id -u)" -ne 0 ]; then
        if command -v sudo >/dev/null 2>&1; then
            SUDO="sudo -n"
        else
            echo "ensure-fonts: not root and no sudo; install ${missing[*]} yourself" >&2
            exit 1
        fi
    fi
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update -qq
    $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" </dev/null
fi

for font in DejaVuSans.ttf DejaVuSans-Bold.ttf; do
    if [ ! -f "$FONT_DIR/$font" ]; then
        echo "ensure-fonts: $FONT_DIR/$font is missing" >&2
        exit 1
    fi
done
echo "ensure-fonts: DejaVu Sans in $FONT_DIR"
