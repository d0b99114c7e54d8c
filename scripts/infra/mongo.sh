#!/usr/bin/env bash
# A MongoDB wire-protocol server for local development, tests, CI and benchmarks: SecantusDB
# (`secantusd-rs` from the crate secantus-mdb: mongod 8.x's wire protocol over WiredTiger, a
# single node advertised as a one-member replica set) on 127.0.0.1:${LIANDONG_MONGO_PORT:-27017},
# data under <repo>/.infra/secantus-<port>/data, log <repo>/.infra/secantus-<port>/secantusd.log.
#
#   scripts/infra/mongo.sh up        # idempotent: does nothing when something already answers
#   scripts/infra/mongo.sh down      # stops the server this script started (by its pid file)
#   scripts/infra/mongo.sh restart
#   scripts/infra/mongo.sh status
#   scripts/infra/mongo.sh binary    # prints the path of the pinned secantusd-rs that `up`
#                                    # would run, or fails when there is none yet (tests/fault
#                                    # starts private servers with it)
#
# Environment:
#   LIANDONG_MONGO_PORT          the port (default 27017, the one the tests look at without
#                                LIANDONG_TEST_MONGO_URL)
#   LIANDONG_SECANTUSD           a prebuilt secantusd-rs to use instead of looking for one
#   LIANDONG_SECANTUS_ROOT       where `cargo install --root` puts it when none is found
#                                (default ${XDG_CACHE_HOME:-~/.cache}/liandong/secantus)
#   LIANDONG_SECANTUS_CACHE_SIZE WiredTiger cache of the server (default 1G)
#
# Licence: secantus-mdb is GPL-2.0. It runs only as a separate server process for
# development, tests, CI and benchmarks; no service imports it and no image ships it.
# Production runs MongoDB replica sets (deploy/).
#
# Why not MongoDB itself: it is not packaged for Debian and no Docker engine runs on these
# machines (ARCHITECTURE.md, "Infrastructure on our machines").
set -euo pipefail

SECANTUS_CRATE="secantus-mdb"
SECANTUS_VERSION="0.5.3-beta.196"
SECANTUS_BIN_NAME="secantusd-rs"
HOST="127.0.0.1"
PORT="${LIANDONG_MONGO_PORT:-27017}"
CACHE_SIZE="${LIANDONG_SECANTUS_CACHE_SIZE:-1G}"
WAIT_SECONDS=60

SCRIPT_DIR="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd -- "${SCRIPT_DIR}/../.." && pwd)"
INFRA_DIR="${REPO_ROOT}/.infra"
INSTANCE_DIR="${INFRA_DIR}/secantus-${PORT}"
DATA_DIR="${INSTANCE_DIR}/data"
CONFIG_FILE="${INSTANCE_DIR}/secantusd.toml"
LOG_FILE="${INSTANCE_DIR}/secantusd.log"
PID_FILE="${INSTANCE_DIR}/secantusd.pid"
INSTALL_ROOT="${LIANDONG_SECANTUS_ROOT:-${XDG_CACHE_HOME:-${HOME}/.cache}/liandong/secantus}"
# Where an earlier `cargo install` may have put the pinned binary: ours first, then cargo's
# default root, then the shared root of these machines.
SEARCH_ROOTS=("${INSTALL_ROOT}" "${CARGO_HOME:-${HOME}/.cargo}" "/work/.secantus")

log() { printf 'mongo.sh: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

[[ "${PORT}" =~ ^[0-9]+$ ]] || die "LIANDONG_MONGO_PORT must be a port number, got '${PORT}'"

# True when something accepts TCP connections on HOST:PORT (bash's /dev/tcp: no nc).
answers() {
    (exec 3<>"/dev/tcp/${HOST}/${PORT}") 2>/dev/null
}

# The pid in PID_FILE, when that process is alive.
our_pid() {
    [[ -f "${PID_FILE}" ]] || return 1
    local pid
    pid="$(<"${PID_FILE}")"
    [[ -n "${pid}" ]] && kill -0 "${pid}" 2>/dev/null && printf '%s' "${pid}"
}

# True when $1 runs and reports the pinned version (`secantusd-rs 0.5.3-beta.196`).
binary_current() {
    [[ -x "$1" ]] && "$1" --version 2>/dev/null | grep -qx "${SECANTUS_BIN_NAME} ${SECANTUS_VERSION}"
}

# The secantusd-rs to run: LIANDONG_SECANTUSD when set (it must run), else the first one of
# the pinned version under SEARCH_ROOTS; fails when there is none.
find_binary() {
    if [[ -n "${LIANDONG_SECANTUSD:-}" ]]; then
        [[ -x "${LIANDONG_SECANTUSD}" ]] && "${LIANDONG_SECANTUSD}" --version >/dev/null 2>&1 ||
            die "LIANDONG_SECANTUSD=${LIANDONG_SECANTUSD} does not run"
        binary_current "${LIANDONG_SECANTUSD}" ||
            log "LIANDONG_SECANTUSD is $("${LIANDONG_SECANTUSD}" --version 2>&1 | head -n 1), not ${SECANTUS_VERSION}; using it as asked"
        printf '%s' "${LIANDONG_SECANTUSD}"
        return 0
    fi
    local root
    for root in "${SEARCH_ROOTS[@]}"; do
        if binary_current "${root}/bin/${SECANTUS_BIN_NAME}"; then
            printf '%s' "${root}/bin/${SECANTUS_BIN_NAME}"
            return 0
        fi
    done
    return 1
}

# find_binary's answer, built from crates.io into INSTALL_ROOT first when there is none
# (about 15 minutes on two busy cores; once per machine).
ensure_binary() {
    find_binary && return 0
    install_binary
    binary_current "${INSTALL_ROOT}/bin/${SECANTUS_BIN_NAME}" ||
        die "${INSTALL_ROOT}/bin/${SECANTUS_BIN_NAME} does not run as built: $("${INSTALL_ROOT}/bin/${SECANTUS_BIN_NAME}" --version 2>&1 | head -n 3)"
    printf '%s' "${INSTALL_ROOT}/bin/${SECANTUS_BIN_NAME}"
}

# --locked: the crate's own Cargo.lock, so every machine builds the same dependencies.
# --ignore-rust-version: the crate declares a newer Rust than Debian's toolchain and builds
# with it all the same. One build at a time per root (flock), so that two `up`s started
# together on a fresh machine do not both spend a quarter of an hour on it.
install_binary() {
    # rustup puts cargo in ~/.cargo/bin, which a non-login shell (CI) may not have on PATH.
    PATH="${PATH}:${CARGO_HOME:-${HOME}/.cargo}/bin"
    command -v cargo >/dev/null 2>&1 ||
        die "cargo is needed to build ${SECANTUS_CRATE} ${SECANTUS_VERSION} (install Rust, e.g. with rustup), or set LIANDONG_SECANTUSD to a prebuilt ${SECANTUS_BIN_NAME}"
    mkdir -p "${INSTALL_ROOT}"
    local build_log="${INSTALL_ROOT}/cargo-install.log"
    (
        if command -v flock >/dev/null 2>&1; then
            exec 9>"${INSTALL_ROOT}/.install.lock"
            flock 9
        fi
        # Another `up` may have finished the build while this one waited for the lock.
        binary_current "${INSTALL_ROOT}/bin/${SECANTUS_BIN_NAME}" && exit 0
        log "building ${SECANTUS_CRATE} ${SECANTUS_VERSION} with cargo into ${INSTALL_ROOT} (about 15 min the first time; log ${build_log})"
        # Cargo's progress goes to stderr too: a CI job that watches for output sees it work.
        cargo install "${SECANTUS_CRATE}" --version "${SECANTUS_VERSION}" --locked \
            --ignore-rust-version --root "${INSTALL_ROOT}" 2>&1 | tee "${build_log}" >&2 || {
            tail -n 40 "${build_log}" >&2 || true
            die "cargo install ${SECANTUS_CRATE} ${SECANTUS_VERSION} failed (log ${build_log})"
        }
        log "built ${INSTALL_ROOT}/bin/${SECANTUS_BIN_NAME}"
    )
}

# Wait until the server just started as $1 answers on HOST:PORT; exit 1 with the last lines
# of its log when it dies first or does not answer within WAIT_SECONDS.
wait_until_answers() {
    local pid="$1" waited=0
    while ! answers; do
        if ! kill -0 "${pid}" 2>/dev/null; then
            log "${SECANTUS_BIN_NAME} exited at start; last lines of ${LOG_FILE}:"
            tail -n 30 "${LOG_FILE}" >&2 || true
            rm -f "${PID_FILE}"
            exit 1
        fi
        if ((waited >= WAIT_SECONDS * 2)); then
            log "${SECANTUS_BIN_NAME} did not answer on ${HOST}:${PORT} within ${WAIT_SECONDS}s; last lines of ${LOG_FILE}:"
            tail -n 30 "${LOG_FILE}" >&2 || true
            exit 1
        fi
        sleep 0.5
        waited=$((waited + 1))
    done
    log "SecantusDB is up on ${HOST}:${PORT} (pid ${pid})"
}

# The FerretDB that this script started before it ran SecantusDB (its pid file in .infra/),
# when it still holds our port: stopped, so that `up` moves a checkout over by itself.
# Any other server on the port is left alone.
stop_previous_ferretdb() {
    local pid_file="${INFRA_DIR}/ferretdb.pid" pid
    [[ -f "${pid_file}" ]] || return 0
    pid="$(<"${pid_file}")"
    if [[ -n "${pid}" ]] && kill -0 "${pid}" 2>/dev/null &&
        tr '\0' ' ' <"/proc/${pid}/cmdline" 2>/dev/null | grep -q -- "--listen-addr=${HOST}:${PORT} "; then
        log "stopping the FerretDB an earlier version of this script started (pid ${pid})"
        kill -TERM "${pid}"
        local waited=0
        while kill -0 "${pid}" 2>/dev/null && ((waited < 40)); do
            sleep 0.5
            waited=$((waited + 1))
        done
        kill -0 "${pid}" 2>/dev/null && kill -KILL "${pid}" 2>/dev/null || true
    fi
    rm -f "${pid_file}"
}

up() {
    stop_previous_ferretdb
    if answers; then
        log "something already answers on ${HOST}:${PORT}; nothing to do"
        return 0
    fi
    local bin pid
    bin="$(ensure_binary)"
    mkdir -p "${DATA_DIR}"
    # An explicit (empty) config file: without --config the server would also read a
    # secantusd.toml from the working directory or ~/.secantus/.
    [[ -f "${CONFIG_FILE}" ]] || printf '# scripts/infra/mongo.sh: every setting is on the command line\n' >"${CONFIG_FILE}"
    log "starting ${bin} on ${HOST}:${PORT} (data ${DATA_DIR}, log ${LOG_FILE})"
    # setsid + nohup: the server must outlive this script and the shell that ran it.
    setsid nohup "${bin}" \
        --config "${CONFIG_FILE}" \
        --host "${HOST}" \
        --port "${PORT}" \
        --storage-path "${DATA_DIR}" \
        --cache-size "${CACHE_SIZE}" \
        --log-level WARNING \
        >>"${LOG_FILE}" 2>&1 </dev/null &
    pid=$!
    printf '%s\n' "${pid}" >"${PID_FILE}"
    wait_until_answers "${pid}"
}

# Stop the server this script started (by PID_FILE): TERM, then KILL after 20 s. A server
# on the port that this script did not start is left alone.
down() {
    local pid
    if ! pid="$(our_pid)"; then
        rm -f "${PID_FILE}"
        if answers; then
            log "a server answers on ${HOST}:${PORT} but this script did not start it; leaving it alone"
        else
            log "SecantusDB not running on ${HOST}:${PORT}"
        fi
        return 0
    fi
    log "stopping SecantusDB (pid ${pid})"
    kill -TERM "${pid}"
    local waited=0
    while kill -0 "${pid}" 2>/dev/null; do
        if ((waited >= 40)); then
            log "SecantusDB did not stop in 20s; killing it"
            kill -KILL "${pid}" 2>/dev/null || true
            break
        fi
        sleep 0.5
        waited=$((waited + 1))
    done
    rm -f "${PID_FILE}"
}

status() {
    if answers; then
        local pid
        if pid="$(our_pid)"; then
            log "up on ${HOST}:${PORT} (SecantusDB pid ${pid})"
        else
            log "up on ${HOST}:${PORT} (not started by this script)"
        fi
    else
        log "down"
        return 1
    fi
}

case "${1:-}" in
up) up ;;
down) down ;;
restart)
    down
    up
    ;;
status) status ;;
binary)
    find_binary || die "no ${SECANTUS_BIN_NAME} ${SECANTUS_VERSION} under ${SEARCH_ROOTS[*]}: run scripts/infra.sh up (or set LIANDONG_SECANTUSD)"
    printf '\n'
    ;;
*)
    printf 'usage: %s up|down|restart|status|binary\n' "$0" >&2
    exit 2
    ;;
esac
