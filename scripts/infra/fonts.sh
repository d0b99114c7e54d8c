#!/usr/bin/env bash
# Install the Debian packages the official-document PDFs need (kernel/documents.py): CJK
# TrueType fonts that reportlab can embed (fonts-noto-cjk is CFF-based and cannot be), and
# poppler-utils, which the tests use to read the PDFs back (pdftotext, pdfinfo, pdftoppm).
# deploy/Dockerfile installs the same fonts in the runtime image.
#
# Usage: scripts/infra/fonts.sh up|down|status   (idempotent; down leaves them installed)
set -euo pipefail

PACKAGES=(fonts-arphic-gbsn00lp fonts-wqy-zenhei poppler-utils)
FILES=(
    /usr/share/fonts/truetype/arphic-gbsn00lp/gbsn00lp.ttf
    /usr/share/fonts/truetype/wqy/wqy-zenhei.ttc
    /usr/bin/pdftotext
)

log() { printf '[fonts.sh] %s\n' "$*" >&2; }

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

missing() {
    local f
    for f in "${FILES[@]}"; do
        [ -e "$f" ] || return 0
    done
    return 1
}

case "${1:-up}" in
  up)
    if ! missing; then
        log "fonts and poppler-utils present; nothing to do"
        exit 0
    fi
    log "installing ${PACKAGES[*]}"
    as_root apt-get update
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${PACKAGES[@]}"
    ;;
  down)
    ;;
  status)
    if missing; then log "missing (run scripts/infra/fonts.sh up)"; exit 1; fi
    log "installed: ${PACKAGES[*]}"
    ;;
  *)
    echo "usage: scripts/infra/fonts.sh up|down|status" >&2
    exit 2
    ;;
esac
