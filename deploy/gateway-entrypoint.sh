#!/bin/sh
# Entry point of the gateway image: compose the supergraph from the subgraph SDL files baked
# into the image, with this deployment's endpoints, then serve it.
#
# Composing at start rather than at build keeps one image for every district: only the
# endpoints differ, and they come from LIANDONG_SUBGRAPH_<NAME>_URL (for example
# LIANDONG_SUBGRAPH_REFERRAL_URL=http://referral:8101/graphql). A missing endpoint, or SDL
# that does not compose, stops the container with the composer's message instead of serving a
# partial graph. Arguments are passed on to hive-gateway.
#
# The rest of the configuration is read by gateway.config.ts from the environment; with
# LIANDONG_ENV=production it refuses to start without LIANDONG_GATEWAY_JWKS_FILE (or _URL)
# and LIANDONG_GATEWAY_HMAC_SECRET, so a gateway never serves unchecked or unsigned traffic.
set -eu

gateway_dir=${LIANDONG_GATEWAY_DIR:-/gateway}
schema_dir=${LIANDONG_SCHEMA_DIR:-$gateway_dir/schemas}
supergraph=${LIANDONG_SUPERGRAPH:-/var/lib/liandong-gateway/supergraph.graphql}

cd "$gateway_dir"

# A function has its own positional parameters: the subgraph list is built there without
# touching the arguments meant for hive-gateway. One subgraph per <name>.graphql file.
compose() {
    set --
    for sdl in "$schema_dir"/*.graphql; do
        [ -f "$sdl" ] || continue
        set -- "$@" --subgraph "$(basename "$sdl" .graphql)=$sdl"
    done
    if [ "$#" -eq 0 ]; then
        echo "liandong-gateway: no subgraph SDL (*.graphql) in $schema_dir" >&2
        exit 1
    fi
    node compose.mjs --out "$supergraph" "$@"
}

compose
# exec: hive-gateway becomes the container's main process and gets SIGTERM directly (it
# drains and stops on it).
exec node_modules/.bin/hive-gateway supergraph "$supergraph" \
    --config-path "$gateway_dir/gateway.config.ts" "$@"
