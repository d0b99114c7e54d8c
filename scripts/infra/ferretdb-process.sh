# shellcheck shell=bash
# The FerretDB process as scripts/infra/mongo.sh and scripts/infra/ferretdb-postgres.sh run it
# (sourced by both). The sourcing script sets HOST, PORT, LOG_FILE, PID_FILE, WAIT_SECONDS and
# defines log().

# True when something accepts TCP connections on HOST:${1:-PORT} (bash's /dev/tcp: no nc).
answers() {
    (exec 3<>"/dev/tcp/${HOST}/${1:-${PORT}}") 2>/dev/null
}

# The pid in PID_FILE, when that process is alive.
our_pid() {
    [[ -f "${PID_FILE}" ]] || return 1
    local pid
    pid="$(<"${PID_FILE}")"
    [[ -n "${pid}" ]] && kill -0 "${pid}" 2>/dev/null && printf '%s' "${pid}"
}

# Wait until the FerretDB just started as $1 answers on HOST:PORT; exit 1 with the last lines
# of its log when it dies first or does not answer within WAIT_SECONDS.
wait_until_answers() {
    local pid="$1" waited=0
    while ! answers; do
        if ! kill -0 "${pid}" 2>/dev/null; then
            log "FerretDB exited at start; last lines of ${LOG_FILE}:"
            tail -n 30 "${LOG_FILE}" >&2 || true
            rm -f "${PID_FILE}"
            exit 1
        fi
        if ((waited >= WAIT_SECONDS * 2)); then
            log "FerretDB did not answer on ${HOST}:${PORT} within ${WAIT_SECONDS}s; last lines of ${LOG_FILE}:"
            tail -n 30 "${LOG_FILE}" >&2 || true
            exit 1
        fi
        sleep 0.5
        waited=$((waited + 1))
    done
    log "FerretDB is up (pid ${pid})"
}

# Stop the FerretDB this script started (by PID_FILE): TERM, then KILL after 20 s. A server
# on the port that this script did not start is left alone.
stop_our_ferretdb() {
    local pid
    if ! pid="$(our_pid)"; then
        rm -f "${PID_FILE}"
        if answers; then
            log "a server answers on ${HOST}:${PORT} but this script did not start it; leaving it alone"
        else
            log "FerretDB not running"
        fi
        return 0
    fi
    log "stopping FerretDB (pid ${pid})"
    kill -TERM "${pid}"
    local waited=0
    while kill -0 "${pid}" 2>/dev/null; do
        if ((waited >= 40)); then
            log "FerretDB did not stop in 20s; killing it"
            kill -KILL "${pid}" 2>/dev/null || true
            break
        fi
        sleep 0.5
        waited=$((waited + 1))
    done
    rm -f "${PID_FILE}"
}
