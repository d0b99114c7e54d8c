#!/usr/bin/env bash
# Provision a local RabbitMQ for tests and the production-like topology on one machine.
#
# Usage: scripts/infra/rabbitmq.sh up|down|restart|status|policies
#
# Idempotent: `up` does nothing when something already answers on 127.0.0.1:5672 (an
# environment-provided broker, or one started earlier). Uses Debian's rabbitmq-server
# package because no Docker engine runs on our machines (see ARCHITECTURE.md).
set -euo pipefail

HOST=127.0.0.1
PORT=5672
STARTUP_TIMEOUT=${RABBITMQ_STARTUP_TIMEOUT:-120}
LOG_DIR=${RABBITMQ_LOG_BASE:-/var/log/rabbitmq}

log() { printf '[rabbitmq.sh] %s\n' "$*" >&2; }

# Bash's /dev/tcp avoids depending on nc/ss being installed.
answers() {
    timeout 2 bash -c "exec 3<>/dev/tcp/${HOST}/${PORT}" 2>/dev/null
}

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

install_if_missing() {
    if command -v rabbitmq-server >/dev/null 2>&1 || [ -x /usr/sbin/rabbitmq-server ]; then
        return 0
    fi
    log "installing Debian's rabbitmq-server"
    as_root apt-get update
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y rabbitmq-server
}

log_tail() {
    local f
    for f in "$LOG_DIR"/*.log; do
        [ -f "$f" ] || continue
        log "--- tail of $f ---"
        tail -n 40 "$f" >&2 || true
    done
}

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

# The queue policies of the deployment (issue 19: liandong-parked, liandong-consumers), on the
# default vhost. Rendered by deploy/render.py into every district's rabbitmq-users.sh, the
# same text for all (a test checks it). Idempotent; run on every `up`, so a changed value
# reaches a broker that was already running.
policies() {
    if ! as_root rabbitmqctl -q status >/dev/null 2>&1; then
        log "no local rabbitmqctl reaches the broker; queue policies not applied"
        return 0
    fi
    local script
    script=$(ls "$REPO"/deploy/compose/*/rabbitmq-users.sh | head -n 1)
    log "applying the queue policies from ${script#"$REPO"/}"
    as_root env PATH="$PATH" RABBITMQ_VHOST=/ sh "$script" policies
}

# The Debian package ships the scripts in /usr/sbin, which is not on every user's PATH.
export PATH="$PATH:/usr/sbin:/usr/lib/rabbitmq/bin"

up() {
    if answers; then
        log "something already answers on ${HOST}:${PORT}; not starting another broker"
        policies
        return 0
    fi
    install_if_missing
    # Debian's postinst may start the service itself (with systemd); only start one node.
    if ! as_root rabbitmqctl -q status >/dev/null 2>&1; then
        log "starting rabbitmq-server -detached"
        # The open-files limit the node needs (see rabbitmq-env.conf beside this script);
        # su keeps this variable, and RabbitMQ's start script sources the file it names.
        RABBITMQ_CONF_ENV_FILE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/rabbitmq-env.conf" \
            as_root rabbitmq-server -detached
    fi
    log "waiting for startup (at most ${STARTUP_TIMEOUT}s)"
    # Right after -detached the node may not accept CLI connections yet, and then
    # await_startup fails at once instead of waiting: retry it until the deadline.
    local deadline=$((SECONDS + STARTUP_TIMEOUT)) left
    until as_root timeout 30 rabbitmqctl -q await_startup >/dev/null 2>&1; do
        left=$((deadline - SECONDS))
        if [ "$left" -le 0 ]; then
            log "RabbitMQ did not start within ${STARTUP_TIMEOUT}s"
            as_root rabbitmqctl -q await_startup || true
            log_tail
            return 1
        fi
        sleep 1
    done
    # await_startup returns when the node boots; the listener follows shortly after.
    local i
    for i in $(seq 1 30); do
        if answers; then
            log "RabbitMQ is up on ${HOST}:${PORT}"
            policies
            return 0
        fi
        sleep 1
    done
    log "RabbitMQ started but nothing answers on ${HOST}:${PORT}"
    log_tail
    return 1
}

down() {
    if ! command -v rabbitmqctl >/dev/null 2>&1; then
        log "rabbitmqctl not installed; nothing to stop"
        return 0
    fi
    if as_root rabbitmqctl -q status >/dev/null 2>&1; then
        log "stopping RabbitMQ"
        as_root timeout "$STARTUP_TIMEOUT" rabbitmqctl stop
    else
        log "RabbitMQ is not running"
    fi
    # Wait until the port is free so that a following `up` starts a fresh node.
    local i
    for i in $(seq 1 30); do
        answers || return 0
        sleep 1
    done
    log "port ${PORT} still answers after stop"
    return 1
}

status() {
    if answers; then
        log "something answers on ${HOST}:${PORT}"
    else
        log "nothing answers on ${HOST}:${PORT}"
    fi
    if command -v rabbitmqctl >/dev/null 2>&1; then
        as_root rabbitmqctl status || true
    fi
    answers
}

case "${1:-}" in
    up) up ;;
    down) down ;;
    restart) down && up ;;
    status) status ;;
    policies) policies ;;
    *)
        echo "usage: $0 up|down|restart|status|policies" >&2
        exit 2
        ;;
esac
