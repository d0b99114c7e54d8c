#!/usr/bin/env bash
# Install (when missing) and start the servers the tests need: RabbitMQ (Debian package),
# a MongoDB wire-protocol server (FerretDB v1, SQLite backend, built with `go install`),
# and the gateway's npm packages. Idempotent: what already runs is left alone.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cmd=${1:-up}
case "$cmd" in
  up|down|status)
    for part in rabbitmq mongo gateway; do
      if [ "$cmd" = status ] || [ "$part" != gateway ] || [ "$cmd" = up ]; then
        "$here/infra/$part.sh" "$cmd"
      fi
    done
    ;;
  *)
    echo "usage: scripts/infra.sh up|down|status" >&2
    exit 2
    ;;
esac
