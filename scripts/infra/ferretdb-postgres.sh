#!/usr/bin/env bash
# FerretDB v1 on its PostgreSQL backend, for measuring it beside the SQLite one
# (scripts/infra/mongo.sh, 127.0.0.1:27017). Everything it starts listens on loopback only:
#
#   PostgreSQL 15 (Debian package) on 127.0.0.1:5433, a private cluster in
#     <repo>/.infra/postgres/data (owned by the postgres user), log <repo>/.infra/postgres/postgres.log,
#     its Unix socket in <repo>/.infra/postgres/run, database "ferretdb" owned by role "ferretdb"
#     whose password is generated once into <repo>/.infra/postgres/ferretdb.password;
#   FerretDB (--handler=postgresql) on 127.0.0.1:27018, state dir <repo>/.infra/ferretdb-pg/,
#     log <repo>/.infra/ferretdb-pg.log, pid <repo>/.infra/ferretdb-pg.pid.
#
#   scripts/infra/ferretdb-postgres.sh up        # idempotent: what already runs is left alone
#   scripts/infra/ferretdb-postgres.sh down      # stops both (FerretDB by its pid file, PostgreSQL
#                                                # by its postmaster.pid via pg_ctl)
#   scripts/infra/ferretdb-postgres.sh status
#
# It never touches the SQLite FerretDB on 27017, Debian's own cluster (15/main on 5432) or
# anything else. The FerretDB binary is the one scripts/infra/mongo.sh builds.
set -euo pipefail

PG_VERSION="15"
PG_BIN="/usr/lib/postgresql/${PG_VERSION}/bin"
HOST="127.0.0.1"
PG_PORT="5433"
PORT="27018"
DB_NAME="ferretdb"
DB_USER="ferretdb"
WAIT_SECONDS=60

SCRIPT_DIR="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd -- "${SCRIPT_DIR}/../.." && pwd)"
INFRA_DIR="${REPO_ROOT}/.infra"
PG_DIR="${INFRA_DIR}/postgres"
PG_DATA="${PG_DIR}/data"
PG_RUN="${PG_DIR}/run"
PG_LOG="${PG_DIR}/postgres.log"
PG_PASSWORD_FILE="${PG_DIR}/ferretdb.password"
STATE_DIR="${INFRA_DIR}/ferretdb-pg"
LOG_FILE="${INFRA_DIR}/ferretdb-pg.log"
PID_FILE="${INFRA_DIR}/ferretdb-pg.pid"

log() { printf 'ferretdb-postgres.sh: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

# shellcheck source=scripts/infra/ferretdb-process.sh
source "${SCRIPT_DIR}/ferretdb-process.sh"

as_postgres() {
    runuser -u postgres -- "$@"
}

ensure_postgresql() {
    if [[ -x "${PG_BIN}/initdb" && -x "${PG_BIN}/pg_ctl" ]]; then
        return 0
    fi
    [[ "$(id -u)" -eq 0 ]] || die "PostgreSQL ${PG_VERSION} is missing and installing it needs root"
    log "installing Debian's postgresql (apt-get)"
    apt-get update
    DEBIAN_FRONTEND=noninteractive apt-get install -y postgresql
    [[ -x "${PG_BIN}/initdb" ]] || die "apt-get installed postgresql but ${PG_BIN}/initdb is missing"
}

ferretdb_bin() {
    command -v go >/dev/null 2>&1 || die "Go is needed to find FerretDB's binary"
    local bin
    bin="$(go env GOPATH)/bin/ferretdb"
    if [[ ! -x "${bin}" ]] || ! "${bin}" --version >/dev/null 2>&1; then
        die "${bin} is missing or does not run: build it with scripts/infra/mongo.sh up (it patches the version file)"
    fi
    printf '%s' "${bin}"
}

pg_running() {
    [[ -f "${PG_DATA}/PG_VERSION" ]] && as_postgres "${PG_BIN}/pg_ctl" -D "${PG_DATA}" status >/dev/null 2>&1
}

# psql as the superuser through the cluster's private socket (peer authentication).
pg_sql() {
    as_postgres "${PG_BIN}/psql" -h "${PG_RUN}" -p "${PG_PORT}" -U postgres -d postgres \
        -v ON_ERROR_STOP=1 -qtAX "$@"
}

init_cluster() {
    [[ -f "${PG_DATA}/PG_VERSION" ]] && return 0
    log "creating a private PostgreSQL cluster in ${PG_DATA}"
    mkdir -p "${PG_DIR}"
    chown postgres:postgres "${PG_DIR}"
    as_postgres mkdir -p "${PG_DATA}" "${PG_RUN}"
    chmod 700 "${PG_DATA}"
    # Local (socket) connections: peer, i.e. only the postgres OS user is the superuser.
    # TCP (loopback only, see listen_addresses below): password, scram-sha-256.
    as_postgres "${PG_BIN}/initdb" -D "${PG_DATA}" -U postgres -E UTF8 --locale=C.UTF-8 \
        --auth-local=peer --auth-host=scram-sha-256 >/dev/null
    # Written by hand, not with ALTER SYSTEM: the cluster is not running yet.
    cat >>"${PG_DATA}/postgresql.conf" <<EOF

# scripts/infra/ferretdb-postgres.sh
listen_addresses = '${HOST}'
port = ${PG_PORT}
unix_socket_directories = '${PG_RUN}'
EOF
}

start_postgres() {
    if pg_running; then
        return 0
    fi
    if answers "${PG_PORT}"; then
        die "something else answers on ${HOST}:${PG_PORT}; not starting PostgreSQL there"
    fi
    as_postgres mkdir -p "${PG_RUN}"
    log "starting PostgreSQL on ${HOST}:${PG_PORT} (data ${PG_DATA}, log ${PG_LOG})"
    # pg_ctl daemonises the postmaster (setsid) so it outlives this script.
    as_postgres "${PG_BIN}/pg_ctl" -D "${PG_DATA}" -l "${PG_LOG}" -w -t "${WAIT_SECONDS}" start >/dev/null ||
        {
            tail -n 30 "${PG_LOG}" >&2 || true
            die "PostgreSQL did not start"
        }
}

ensure_database() {
    if [[ ! -s "${PG_PASSWORD_FILE}" ]]; then
        (umask 077 && head -c 18 /dev/urandom | base64 | tr -d '/+=\n' >"${PG_PASSWORD_FILE}")
    fi
    local password
    password="$(<"${PG_PASSWORD_FILE}")"
    if [[ "$(pg_sql -c "SELECT 1 FROM pg_roles WHERE rolname = '${DB_USER}'")" != "1" ]]; then
        log "creating role ${DB_USER}"
        pg_sql -c "CREATE ROLE ${DB_USER} LOGIN PASSWORD '${password}'"
    fi
    if [[ "$(pg_sql -c "SELECT 1 FROM pg_database WHERE datname = '${DB_NAME}'")" != "1" ]]; then
        log "creating database ${DB_NAME}"
        pg_sql -c "CREATE DATABASE ${DB_NAME} OWNER ${DB_USER}"
    fi
}

start_ferretdb() {
    local running
    if running="$(our_pid)"; then
        log "FerretDB already up on ${HOST}:${PORT} (pid ${running}); nothing to do"
        return 0
    fi
    if answers "${PORT}"; then
        log "something already answers on ${HOST}:${PORT} (not started by this script); leaving it alone"
        return 0
    fi
    local bin pid password
    bin="$(ferretdb_bin)"
    password="$(<"${PG_PASSWORD_FILE}")"
    mkdir -p "${STATE_DIR}"
    log "starting FerretDB (postgresql) on ${HOST}:${PORT} (state ${STATE_DIR}, log ${LOG_FILE})"
    # The PostgreSQL URL goes through the environment (FERRETDB_POSTGRESQL_URL, the same as
    # --postgresql-url) so that its password does not show in `ps`.
    # setsid + nohup: the server must outlive this script and the shell that ran it.
    FERRETDB_POSTGRESQL_URL="postgres://${DB_USER}:${password}@${HOST}:${PG_PORT}/${DB_NAME}" \
        setsid nohup "${bin}" \
        --handler=postgresql \
        --state-dir="${STATE_DIR}" \
        --listen-addr="${HOST}:${PORT}" \
        --debug-addr=- \
        --telemetry=disable \
        --log-level=warn \
        >>"${LOG_FILE}" 2>&1 </dev/null &
    pid=$!
    printf '%s\n' "${pid}" >"${PID_FILE}"
    wait_until_answers "${pid}"
}

up() {
    ensure_postgresql
    init_cluster
    start_postgres
    ensure_database
    start_ferretdb
}

stop_postgres() {
    if ! pg_running; then
        return 0
    fi
    log "stopping PostgreSQL (${PG_DATA})"
    as_postgres "${PG_BIN}/pg_ctl" -D "${PG_DATA}" -m fast -w -t "${WAIT_SECONDS}" stop >/dev/null
}

down() {
    stop_our_ferretdb
    stop_postgres
}

status() {
    local rc=0 pid
    if pg_running; then
        log "PostgreSQL up on ${HOST}:${PG_PORT} (pid $(head -n 1 "${PG_DATA}/postmaster.pid"))"
    else
        log "PostgreSQL down"
        rc=1
    fi
    if answers "${PORT}"; then
        if pid="$(our_pid)"; then
            log "FerretDB up on ${HOST}:${PORT} (pid ${pid})"
        else
            log "FerretDB: something answers on ${HOST}:${PORT} (not started by this script)"
        fi
    else
        log "FerretDB down"
        rc=1
    fi
    return "${rc}"
}

case "${1:-}" in
up) up ;;
down) down ;;
status) status ;;
*)
    printf 'usage: %s up|down|status\n' "$0" >&2
    exit 2
    ;;
esac
