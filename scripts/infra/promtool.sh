#!/usr/bin/env bash
# promtool for the alert-rule tests (tests/integration/suite/test_deploy_manifests.py runs
# `promtool test rules deploy/prometheus/liandong-rules.test.yaml`). Debian's `prometheus`
# package ships it; installed once (as root, as on the project's machines), then a no-op.
set -euo pipefail

if command -v promtool >/dev/null 2>&1; then
    exit 0
fi
as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}
echo "promtool.sh: installing Debian's prometheus package (for promtool)" >&2
as_root apt-get update -qq
as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus >/dev/null
command -v promtool
