#!/usr/bin/env bash
# Stop what infra-up.sh started in private mode: the Postgres cluster and the NATS server under
# .local/infra/ (or $INFRA_DIR). Nothing else: servers that infra-up.sh merely reused, and the
# system ones it starts as root (Debian cluster, /run/nats-server*.pid), keep running.
#
#   infra-down.sh           stop; keep the data (the next infra-up.sh starts them again)
#   infra-down.sh --purge   stop and delete the private data (databases, JetStream store, logs)
#
# Safe to run when nothing is running. Exit 0 unless a server refused to stop (1) or the
# arguments are wrong (2).
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PURGE=no
case "${1:-}" in
  "") ;;
  --purge) PURGE=yes ;;
  *) die "$EXIT_USAGE" "usage: $0 [--purge]" ;;
esac

# as_owner <path> <command...>: run as the user owning <path>. pg_ctl refuses to run as root,
# so root stopping a user's private cluster has to switch to that user.
as_owner() {
  local owner; owner="$(stat -c %U "$1")"; shift
  if [[ "$(id -u)" -eq 0 && "$owner" != root ]]; then
    (cd / && runuser -u "$owner" -- "$@")
  else
    "$@"
  fi
}

# alive <pid>: running, and not a zombie (in containers whose init does not reap, a stopped
# server can linger as a zombie; it holds no port and no files).
alive() {
  kill -0 "$1" 2>/dev/null || return 1
  local stat
  stat="$(cat "/proc/$1/stat" 2>/dev/null)" || return 0
  stat="${stat##*) }"     # the state follows "(comm) ", and comm may contain spaces
  [[ "${stat%% *}" != Z ]]
}

# wait_gone <pid> <seconds>
wait_gone() {
  local deadline=$((SECONDS + $2))
  while alive "$1"; do
    (( SECONDS < deadline )) || return 1
    sleep 0.2
  done
}

FAILED=no

# --- NATS: identified by our pidfile; the pid must still be a nats-server using that pidfile
# (a stale pidfile's pid may belong to an unrelated process by now).
stop_nats() {
  if [[ ! -f "$PRIV_NATS_PID" ]]; then
    log "NATS: no private server ($PRIV_NATS_PID absent); nothing to stop"
    return 0
  fi
  local pid; pid="$(cat "$PRIV_NATS_PID")"
  if ! pid_is "$pid" "$PRIV_NATS_PID"; then
    log "NATS: private server not running (removed stale $PRIV_NATS_PID)"
    rm -f "$PRIV_NATS_PID"
    return 0
  fi
  kill -TERM "$pid"
  if ! wait_gone "$pid" 15; then
    warn "NATS (pid $pid) ignored SIGTERM for 15 s; sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    wait_gone "$pid" 5 || { warn "NATS (pid $pid) is still running"; FAILED=yes; return 0; }
  fi
  rm -f "$PRIV_NATS_PID"
  log "NATS: stopped the private server (pid $pid)"
}

# --- Postgres: pg_ctl -D <our data dir> stop; fast mode rolls back open sessions at once.
stop_postgres() {
  if [[ ! -f "$PRIV_PGDATA/PG_VERSION" ]]; then
    log "Postgres: no private cluster ($PRIV_PGDATA absent); nothing to stop"
    return 0
  fi
  local pidfile="$PRIV_PGDATA/postmaster.pid" pid
  pid="$(head -n 1 "$pidfile" 2>/dev/null || true)"
  if [[ -z "$pid" ]] || ! pid_is "$pid" "$PRIV_PGDATA"; then
    log "Postgres: private cluster in $PRIV_PGDATA is not running"
    return 0
  fi
  local ver bindir
  ver="$(cat "$PRIV_PGDATA/PG_VERSION")"
  bindir="/usr/lib/postgresql/$ver/bin"
  [[ -x "$bindir/pg_ctl" ]] || bindir="$(find_pg_bindir)"
  if [[ -n "$bindir" && -x "$bindir/pg_ctl" ]]; then
    as_owner "$PRIV_PGDATA" "$bindir/pg_ctl" -D "$PRIV_PGDATA" -m fast -w -t 60 stop >/dev/null \
      || { warn "pg_ctl stop failed for $PRIV_PGDATA"; FAILED=yes; return 0; }
  else
    # No pg_ctl at hand: SIGINT is Postgres' "fast shutdown".
    kill -INT "$pid"
    wait_gone "$pid" 60 || { warn "Postgres (pid $pid) is still running"; FAILED=yes; return 0; }
  fi
  log "Postgres: stopped the private cluster (pid $pid, data kept in $PRIV_PGDATA)"
}

stop_nats
stop_postgres

if [[ "$PURGE" == yes ]]; then
  if [[ "$FAILED" == yes ]]; then
    warn "not purging: a server is still running"
  else
    # Only the two folders infra-up.sh creates, never $INFRA_DIR wholesale (it is overridable).
    rm -rf "$PRIV_PG_DIR" "$PRIV_NATS_DIR"
    rmdir "$INFRA_DIR" 2>/dev/null || true
    log "Purged the private data ($PRIV_PG_DIR, $PRIV_NATS_DIR)"
  fi
fi

log "Servers outside $INFRA_DIR were not touched (reused or system-wide ones keep running)."
[[ "$FAILED" == no ]] || exit "$EXIT_FAIL"
