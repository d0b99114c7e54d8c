#!/usr/bin/env bash
# Tools the deployment-manifest tests need (tests/integration/suite/test_deploy_manifests.py): the
# kustomize renderer in deploy/tools/kustomize (a few lines of Go over sigs.k8s.io/kustomize/api,
# pinned in its go.mod), which renders deploy/k8s/overlays/* without kubectl or a cluster.
# Idempotent: downloads the Go modules once (Go module proxy) and builds the binary once.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
tool="$root/deploy/tools/kustomize"
out="${LIANDONG_TOOLS_DIR:-$root/.liandong/tools}/kustomize"

if ! command -v go >/dev/null 2>&1; then
    echo "k8s-tools: Go is required to build the kustomize renderer" >&2
    exit 1
fi
if [[ -x "$out" && "$out" -nt "$tool/go.sum" && "$out" -nt "$tool/main.go" ]]; then
    exit 0
fi
mkdir -p "$(dirname "$out")"
(cd "$tool" && go mod download && go build -o "$out" .)
echo "k8s-tools: built $out"
