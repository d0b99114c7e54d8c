#!/usr/bin/env bash
# Lint every district's Kubernetes overlay offline (issue 19): `kustomize build` with the
# renderer scripts/infra/k8s-tools.sh builds, then deploy/lint_manifests.py (strict schema
# validation against the Kubernetes JSON schemas the dev dependency kubernetes-validate ships,
# and the hardening policy). Needs no cluster and no network once `uv sync` has run.
#
# Usage: scripts/infra/lint-manifests.sh [DISTRICT ...]   (default: every overlay)
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
"$root/scripts/infra/k8s-tools.sh"
kustomize="${LIANDONG_TOOLS_DIR:-$root/.liandong/tools}/kustomize"

if [ "$#" -eq 0 ]; then
    set -- $(ls "$root/deploy/k8s/overlays")
fi
status=0
for district in "$@"; do
    echo "lint-manifests: $district" >&2
    "$kustomize" "$root/deploy/k8s/overlays/$district" \
        | (cd "$root" && uv run --frozen python deploy/lint_manifests.py -) || status=1
done
exit "$status"
