#!/usr/bin/env bash
# Install (when missing) and start what the tests need: RabbitMQ (Debian package), a MongoDB
# wire-protocol server (SecantusDB's secantusd-rs, built once with `cargo install`; GPL-2.0,
# a separate process for development, tests, CI and benchmarks only) and the gateway's npm
# packages, and (up only) the kustomize renderer the manifest tests use. Idempotent: what
# already runs is left alone.
#   scripts/infra.sh up|down|status
# LIANDONG_MONGO_PORT moves the MongoDB wire-protocol server off 27017 (scripts/infra/mongo.sh).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cmd=${1:-up}
case "$cmd" in
  up|down|status)
    rc=0
    for part in fonts rabbitmq mongo gateway; do
      "$here/infra/$part.sh" "$cmd" || rc=$?
      [ "$cmd" = status ] || [ "$rc" -eq 0 ] || exit "$rc"
    done
    if [ "$cmd" = up ]; then "$here/infra/k8s-tools.sh" && "$here/infra/promtool.sh"; fi
    exit "$rc"
    ;;
  *)
    echo "usage: scripts/infra.sh up|down|status" >&2
    exit 2
    ;;
esac
