#!/usr/bin/env bash
# Make PostgreSQL and NATS (with JetStream) available for local runs and tests, at the
# defaults of docs/architecture.md#defaults: postgres://tb:tb@127.0.0.1:5432/<db>, nats://127.0.0.1:4222.
#
#   1. Reuse:   a Postgres / a JetStream-enabled NATS already answering on the port is used as
#               it is; nothing is started. A NATS *without* JetStream is an error (exit 4).
#   2. System:  as root or with passwordless sudo, install the Debian packages if missing, use
#               the Debian cluster (pg_createcluster / pg_ctlcluster) and start nats-server -js.
#   3. Private: as a normal user, run a private cluster and NATS under .local/infra/ (stopped
#               again by infra-down.sh); if the binaries are missing, print the install command.
# Then make sure role tb (LOGIN CREATEDB, password tb) and databases ledger, fetcher, backtest,
# live owned by tb exist. Safe to run any number of times.
#
# Progress goes to stderr; stdout gets only the summary (KEY=value lines). See README.md for the
# environment overrides and exit codes.
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

readonly DB_ROLE=tb
readonly DB_PASSWORD=tb
readonly DATABASES=(ledger fetcher backtest live)

# Filled in as we go, reported in the summary.
PG_HOW=""
NATS_HOW=""

# ---------------------------------------------------------------------------------------------
# Privileges: root, passwordless sudo, or none. SUDO prefixes commands that need root.
# ---------------------------------------------------------------------------------------------
SUDO=()
PRIV=none
detect_privilege() {
  if [[ "$(id -u)" -eq 0 ]]; then
    PRIV=root
  elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    PRIV=sudo
    SUDO=(sudo -n)
  fi
}

# Which way we start what is missing: system (Debian packages, needs root/sudo) or private.
MODE=""
decide_mode() {
  case "$INFRA_MODE" in
    auto) if [[ "$PRIV" == none ]]; then MODE=private; else MODE=system; fi ;;
    system)
      [[ "$PRIV" != none ]] \
        || die "$EXIT_USAGE" "INFRA_MODE=system needs root or passwordless sudo"
      MODE=system ;;
    private)
      # initdb and postgres refuse to run as root.
      [[ "$PRIV" != root ]] \
        || die "$EXIT_USAGE" "INFRA_MODE=private is for a normal user (Postgres will not run as root)"
      MODE=private ;;
    *) die "$EXIT_USAGE" "INFRA_MODE must be auto, system or private, got '$INFRA_MODE'" ;;
  esac
}

# Prints who listens on a port, e.g. "(nats-server pid 6932)", when ss can tell (it sees other
# users' processes only as root). Helps the user find the server to stop.
port_owner() {
  command -v ss >/dev/null 2>&1 || return 0
  ss -ltnpH "sport = :$1" 2>/dev/null \
    | sed -n 's/.*users:(("\([^"]*\)",pid=\([0-9]*\).*/(\1 pid \2)/p' | head -n 1 || true
}

# ---------------------------------------------------------------------------------------------
# Plan: what answers already, what must be started, which packages are missing.
# Everything that can fail cheaply fails here, before anything is started.
# ---------------------------------------------------------------------------------------------
PG_NEEDS_START=no
NATS_NEEDS_START=no
PG_BINDIR=""
NATS_BIN=""
PSQL=""
PG_ISREADY=""

nats_fail_no_jetstream() { # <detail>
  local owner; owner="$(port_owner "$NATS_PORT")"
  die "$EXIT_NO_JETSTREAM" \
    "A NATS server answers on $INFRA_HOST:$NATS_PORT ${owner:+$owner }but JetStream is OFF: $1" \
    "The services need JetStream. Stop that server, then run $0 again:" \
    "it starts nats-server with -js when the port is free." \
    "Debian's packaged unit runs without -js; stop it with: sudo systemctl disable --now nats-server" \
    "Or keep it and put the local stack on another port: NATS_PORT=<port> $0"
}

plan() {
  # Postgres: the SSLRequest probe recognises any Postgres, whatever its auth setup.
  if pg_answers "$PG_PORT"; then
    PG_HOW="reused (already running)"
  elif port_open "$PG_PORT"; then
    die "$EXIT_PORT_TAKEN" "Port $INFRA_HOST:$PG_PORT is taken by something that is not PostgreSQL $(port_owner "$PG_PORT")" \
      "Free it, or use another port: PG_PORT=<port> $0"
  else
    PG_NEEDS_START=yes
  fi

  local status="" detail=""
  read -r status detail < <(nats_js_status "$NATS_PORT") || true
  case "$status" in
    on)     NATS_HOW="reused (already running, JetStream on)" ;;
    closed) NATS_NEEDS_START=yes ;;
    off)    nats_fail_no_jetstream "$detail" ;;
    auth)   die "$EXIT_PORT_TAKEN" "The NATS server on $INFRA_HOST:$NATS_PORT requires credentials ($detail);" \
              "the local stack expects an open server. Use another port: NATS_PORT=<port> $0" ;;
    *)      die "$EXIT_PORT_TAKEN" "Port $INFRA_HOST:$NATS_PORT is taken by something that does not speak NATS $(port_owner "$NATS_PORT")" \
              "Free it, or use another port: NATS_PORT=<port> $0" ;;
  esac

  PG_BINDIR="$(find_pg_bindir)"
  NATS_BIN="$(find_nats_server)"
  PSQL="$(find_pg_client psql "$PG_BINDIR")"
  PG_ISREADY="$(find_pg_client pg_isready "$PG_BINDIR")"

  local missing=()
  if [[ "$PG_NEEDS_START" == yes && -z "$PG_BINDIR" ]]; then missing+=(postgresql); fi
  if [[ "$NATS_NEEDS_START" == yes && -z "$NATS_BIN" ]]; then missing+=(nats-server); fi
  # psql creates the role and databases; the server package pulls it in.
  if [[ -z "$PSQL" && -z "$PG_BINDIR" && " ${missing[*]} " != *" postgresql "* ]]; then
    missing+=(postgresql-client)
  fi
  (( ${#missing[@]} == 0 )) || install_packages "${missing[@]}"
}

install_packages() {
  if [[ "$PRIV" == none ]] || ! command -v apt-get >/dev/null 2>&1; then
    log "Missing: $*. Install with:"
    printf '    sudo apt-get install -y %s\n' "$*" >&2
    log "then run $0 again."
    if [[ " $* " == *" nats-server "* ]]; then
      log "(On a host with systemd the nats-server package starts a unit WITHOUT JetStream on port"
      log " 4222; stop it before running again: sudo systemctl disable --now nats-server)"
    fi
    exit "$EXIT_MISSING"
  fi
  log "Installing $* (apt-get)"
  "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
  "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >&2
  PG_BINDIR="$(find_pg_bindir)"
  NATS_BIN="$(find_nats_server)"
  PSQL="$(find_pg_client psql "$PG_BINDIR")"
  PG_ISREADY="$(find_pg_client pg_isready "$PG_BINDIR")"
}

pg_ready() {
  if [[ -n "$PG_ISREADY" ]]; then
    "$PG_ISREADY" -q -h "$INFRA_HOST" -p "$PG_PORT" -t 2
  else
    pg_answers "$PG_PORT"
  fi
}

# ---------------------------------------------------------------------------------------------
# PostgreSQL
# ---------------------------------------------------------------------------------------------
ensure_postgres() {
  if [[ "$PG_NEEDS_START" == no ]]; then
    # Ours from an earlier run? Say so, so the user knows infra-down.sh will stop it.
    if [[ -f "$PRIV_PGDATA/postmaster.pid" ]] \
        && [[ "$(sed -n 4p "$PRIV_PGDATA/postmaster.pid" 2>/dev/null)" == "$PG_PORT" ]] \
        && pid_is "$(head -n 1 "$PRIV_PGDATA/postmaster.pid")" postgres; then
      PG_HOW="reused (private cluster in $PRIV_PG_DIR, started by an earlier run)"
    fi
  elif pg_answers "$PG_PORT"; then
    PG_HOW="reused (started by the package installation)"
  elif [[ "$MODE" == system ]]; then
    start_postgres_system
  else
    start_postgres_private
  fi
  wait_until 60 pg_ready || die "$EXIT_FAIL" "PostgreSQL on $INFRA_HOST:$PG_PORT does not accept connections"
}

# Debian's cluster tools: pg_createcluster if the cluster does not exist, pg_ctlcluster if
# it is down. --skip-systemctl-redirect makes it work where systemd is not running (containers).
start_postgres_system() {
  local ver="" line port status
  local bindir
  for bindir in $(pg_version_bindirs); do
    if [[ -x "$bindir/postgres" ]]; then ver="$(basename "$(dirname "$bindir")")"; break; fi
  done
  [[ -n "$ver" ]] || die "$EXIT_FAIL" "no PostgreSQL server under /usr/lib/postgresql"
  line="$(pg_lsclusters -h "$ver" "$PG_CLUSTER" 2>/dev/null || true)"
  if [[ -z "$line" ]]; then
    log "Creating cluster $ver/$PG_CLUSTER on port $PG_PORT (pg_createcluster)"
    "${SUDO[@]}" pg_createcluster --port "$PG_PORT" "$ver" "$PG_CLUSTER" >&2
    line="$(pg_lsclusters -h "$ver" "$PG_CLUSTER")"
    PG_HOW="started (system cluster $ver/$PG_CLUSTER, created now)"
  else
    PG_HOW="started (system cluster $ver/$PG_CLUSTER)"
  fi
  read -r _ _ port status _ <<<"$line"
  [[ "$port" == "$PG_PORT" ]] || die "$EXIT_USAGE" \
    "Cluster $ver/$PG_CLUSTER is configured for port $port, not $PG_PORT." \
    "Use PG_PORT=$port, or PG_CLUSTER=<another name> to create a cluster on port $PG_PORT."
  if [[ "$status" != online* ]]; then
    log "Starting cluster $ver/$PG_CLUSTER (pg_ctlcluster)"
    "${SUDO[@]}" pg_ctlcluster --skip-systemctl-redirect "$ver" "$PG_CLUSTER" start >&2
  fi
}

# A cluster owned by the user in .local/infra/pg: trust auth, TCP on 127.0.0.1 only, no Unix
# socket (the default socket directory is not writable by a normal user).
start_postgres_private() {
  local bindir="$PG_BINDIR"
  mkdir -p "$PRIV_PG_DIR"
  if [[ ! -f "$PRIV_PGDATA/PG_VERSION" ]]; then
    log "Creating a private cluster in $PRIV_PGDATA (initdb, trust auth)"
    "$bindir/initdb" -D "$PRIV_PGDATA" -U postgres --auth=trust -E UTF8 --no-locale >>"$PRIV_PG_LOG" 2>&1 \
      || { tail -n 20 "$PRIV_PG_LOG" >&2; die "$EXIT_FAIL" "initdb failed (log: $PRIV_PG_LOG)"; }
    cat >>"$PRIV_PGDATA/postgresql.conf" <<'EOF'

# Added by deploy/local/infra-up.sh (the port is passed on the command line)
listen_addresses = '127.0.0.1'
unix_socket_directories = ''
EOF
    PG_HOW="started (private cluster in $PRIV_PG_DIR, created now)"
  else
    PG_HOW="started (private cluster in $PRIV_PG_DIR)"
  fi
  # A cluster made by another major version needs that version's binaries.
  local data_ver; data_ver="$(cat "$PRIV_PGDATA/PG_VERSION")"
  if [[ -x "/usr/lib/postgresql/$data_ver/bin/pg_ctl" ]]; then bindir="/usr/lib/postgresql/$data_ver/bin"; fi

  if "$bindir/pg_ctl" -D "$PRIV_PGDATA" status >/dev/null 2>&1; then
    # Running but not answering on PG_PORT: it was started on another port.
    local running_port; running_port="$(sed -n 4p "$PRIV_PGDATA/postmaster.pid")"
    if [[ "$running_port" != "$PG_PORT" ]]; then
      die "$EXIT_USAGE" "The private cluster already runs on port $running_port, not $PG_PORT." \
        "Run deploy/local/infra-down.sh first, or use PG_PORT=$running_port."
    fi
    return 0
  fi
  log "Starting the private cluster on $INFRA_HOST:$PG_PORT (log: $PRIV_PG_LOG)"
  "$bindir/pg_ctl" -D "$PRIV_PGDATA" -l "$PRIV_PG_LOG" -o "-p $PG_PORT" -w -t 60 start >/dev/null \
    || { tail -n 20 "$PRIV_PG_LOG" >&2; die "$EXIT_FAIL" "the private cluster did not start (log: $PRIV_PG_LOG)"; }
}

# ---------------------------------------------------------------------------------------------
# NATS
# ---------------------------------------------------------------------------------------------
nats_js_on() { [[ "$(nats_js_status "$NATS_PORT")" == on ]]; }

ensure_nats() {
  if [[ "$NATS_NEEDS_START" == no ]]; then
    # Ours from an earlier run? (its command line names the port)
    if [[ -f "$PRIV_NATS_PID" ]] && pid_is "$(cat "$PRIV_NATS_PID")" "-p $NATS_PORT "; then
      NATS_HOW="reused (private server in $PRIV_NATS_DIR, started by an earlier run, JetStream on)"
    fi
    return 0
  fi
  # The package installation may just have started one (Debian's unit, JetStream off).
  local status="" detail=""
  read -r status detail < <(nats_js_status "$NATS_PORT") || true
  case "$status" in
    on)     NATS_HOW="reused (started by the package installation, JetStream on)"; return 0 ;;
    closed) ;;
    off)    nats_fail_no_jetstream "$detail" ;;
    *)      die "$EXIT_PORT_TAKEN" "Port $INFRA_HOST:$NATS_PORT was taken meanwhile ($status $detail)" ;;
  esac

  local store pidfile logfile
  if [[ "$MODE" == system ]]; then
    # Same places as the server pre-started on the project's machines; a non-default port
    # gets its own store so two servers never share a JetStream directory.
    local sfx=""; [[ "$NATS_PORT" == 4222 ]] || sfx="-$NATS_PORT"
    store="/var/lib/nats-server$sfx"; logfile="/var/log/nats-server$sfx.log"; pidfile="/run/nats-server$sfx.pid"
    "${SUDO[@]}" mkdir -p "$store"
  else
    store="$PRIV_NATS_STORE"; logfile="$PRIV_NATS_LOG"; pidfile="$PRIV_NATS_PID"
    if [[ -f "$pidfile" ]]; then
      if pid_is "$(cat "$pidfile")" nats-server; then
        die "$EXIT_USAGE" "The private NATS server (pid $(cat "$pidfile")) runs, but not on port $NATS_PORT." \
          "Run deploy/local/infra-down.sh first, or set NATS_PORT to its port."
      fi
      rm -f "$pidfile" # stale, from a server that is gone
    fi
    mkdir -p "$store"
  fi

  local args=(-a "$INFRA_HOST" -p "$NATS_PORT" -js -sd "$store" -P "$pidfile" -l "$logfile")
  if [[ "$NATS_MONITOR_PORT" != 0 ]]; then
    if port_open "$NATS_MONITOR_PORT"; then
      warn "monitoring port $NATS_MONITOR_PORT is taken: starting NATS without it (NATS_MONITOR_PORT=0 silences this)"
    else
      args+=(-m "$NATS_MONITOR_PORT")
    fi
  fi
  log "Starting nats-server with JetStream on $INFRA_HOST:$NATS_PORT (store $store, log $logfile)"
  # Detached: own session (setsid -f), no terminal, stdin from /dev/null, so it outlives us.
  if command -v setsid >/dev/null 2>&1; then
    "${SUDO[@]}" setsid -f "$NATS_BIN" "${args[@]}" </dev/null >/dev/null 2>&1
  else
    "${SUDO[@]}" nohup "$NATS_BIN" "${args[@]}" </dev/null >/dev/null 2>&1 &
    disown || true
  fi
  if ! wait_until 20 nats_js_on; then
    "${SUDO[@]}" tail -n 20 "$logfile" >&2 || true
    die "$EXIT_FAIL" "nats-server did not come up with JetStream on $INFRA_HOST:$NATS_PORT (log: $logfile)"
  fi
  if [[ "$MODE" == system ]]; then
    NATS_HOW="started (system: pid file $pidfile, JetStream on)"
  else
    NATS_HOW="started (private server in $PRIV_NATS_DIR, JetStream on)"
  fi
}

# ---------------------------------------------------------------------------------------------
# Role and databases
# ---------------------------------------------------------------------------------------------

# How we get a superuser session, tried in this order:
#   tcp-postgres  psql -h 127.0.0.1 -U postgres (trust auth: these machines, private mode)
#   runuser       as root: runuser -u postgres -- psql over the Unix socket (peer auth, Debian default)
#   sudo          passwordless sudo: sudo -u postgres psql
#   tcp-self      the login user is a superuser (some laptops)
ADMIN_KIND=""
admin_psql() {
  local opts=(-X -w -q -At -v ON_ERROR_STOP=1 -p "$PG_PORT" -d postgres)
  case "$ADMIN_KIND" in
    tcp-postgres) PGCONNECT_TIMEOUT=5 "$PSQL" "${opts[@]}" -h "$INFRA_HOST" -U postgres "$@" ;;
    tcp-self)     PGCONNECT_TIMEOUT=5 "$PSQL" "${opts[@]}" -h "$INFRA_HOST" -U "$(id -un)" "$@" ;;
    # cd /: the postgres user may not read the caller's working directory.
    runuser)      (cd / && runuser -u postgres -- "$PSQL" "${opts[@]}" "$@") ;;
    sudo)         (cd / && sudo -n -u postgres "$PSQL" "${opts[@]}" "$@") ;;
    *) return 1 ;;
  esac
}

detect_admin() {
  local kind candidates=(tcp-postgres)
  [[ "$PRIV" == root ]] && candidates+=(runuser)
  [[ "$PRIV" == sudo ]] && candidates+=(sudo)
  candidates+=(tcp-self)
  for kind in "${candidates[@]}"; do
    ADMIN_KIND="$kind"
    if [[ "$(admin_psql -c 'select rolsuper from pg_roles where rolname = current_user' 2>/dev/null)" == t ]]; then
      log "Postgres admin access: $kind"
      return 0
    fi
  done
  ADMIN_KIND=""
  return 1
}

db_url() { echo "postgres://$DB_ROLE:$DB_PASSWORD@$INFRA_HOST:$PG_PORT${1:+/$1}"; }

# True if role tb can log in with its password to every database.
tb_can_connect() {
  local db
  for db in "${DATABASES[@]}"; do
    PGCONNECT_TIMEOUT=5 "$PSQL" -X -w -q -At "$(db_url "$db")" -c 'select 1' >/dev/null 2>&1 || return 1
  done
}

ensure_role_and_databases() {
  if ! detect_admin; then
    if tb_can_connect; then
      log "No superuser access, but role $DB_ROLE already reaches all databases: nothing to do"
      return 0
    fi
    die "$EXIT_FAIL" "Cannot get superuser access to the Postgres on $INFRA_HOST:$PG_PORT to create role $DB_ROLE." \
      "Run this script once as root (sudo $0), or create them yourself as a superuser:" \
      "  CREATE ROLE $DB_ROLE LOGIN CREATEDB PASSWORD '$DB_PASSWORD';" \
      "  CREATE DATABASE <db> OWNER $DB_ROLE;   -- for each of: ${DATABASES[*]}"
  fi

  # Role: create if missing, else make sure it can log in and create databases (tests create
  # databases from templates).
  local attrs
  attrs="$(admin_psql -c "select rolcanlogin::text || ',' || rolcreatedb::text from pg_roles where rolname = '$DB_ROLE'")"
  if [[ -z "$attrs" ]]; then
    admin_psql -c "CREATE ROLE $DB_ROLE LOGIN CREATEDB PASSWORD '$DB_PASSWORD'"
    log "Created role $DB_ROLE (LOGIN CREATEDB)"
  elif [[ "$attrs" != "true,true" ]]; then
    admin_psql -c "ALTER ROLE $DB_ROLE LOGIN CREATEDB"
    log "Role $DB_ROLE existed; granted LOGIN CREATEDB"
  else
    log "Role $DB_ROLE exists"
  fi

  # Databases: look in pg_database first, CREATE DATABASE only if absent (it has no IF NOT EXISTS).
  local db owner
  for db in "${DATABASES[@]}"; do
    owner="$(admin_psql -c "select pg_get_userbyid(datdba) from pg_database where datname = '$db'")"
    if [[ -z "$owner" ]]; then
      admin_psql -c "CREATE DATABASE \"$db\" OWNER $DB_ROLE"
      log "Created database $db"
    elif [[ "$owner" != "$DB_ROLE" ]]; then
      admin_psql -c "ALTER DATABASE \"$db\" OWNER TO $DB_ROLE"
      log "Database $db existed (owner $owner); owner is now $DB_ROLE"
    else
      log "Database $db exists"
    fi
  done

  # The URL must work with the password (matters where pg_hba asks for one). A role that
  # existed with another password gets the documented one back.
  if ! tb_can_connect; then
    admin_psql -c "ALTER ROLE $DB_ROLE PASSWORD '$DB_PASSWORD'"
    log "Reset the password of role $DB_ROLE to the default"
    tb_can_connect || die "$EXIT_FAIL" "role $DB_ROLE cannot connect with $(db_url ledger) (check pg_hba.conf)"
  fi
}

# ---------------------------------------------------------------------------------------------
main() {
  validate_port PG_PORT "$PG_PORT"
  validate_port NATS_PORT "$NATS_PORT"
  validate_port NATS_MONITOR_PORT "$NATS_MONITOR_PORT"
  [[ $# -eq 0 ]] || die "$EXIT_USAGE" "usage: $0 (no arguments; see deploy/local/README.md for env overrides)"

  # Two concurrent runs (e.g. two terminals) must not both start a server: re-run this script
  # under flock. -o keeps the lock's descriptor out of the servers we start (a daemon that
  # inherited it would hold the lock for ever).
  if [[ -z "${TB_INFRA_UP_LOCKED:-}" ]] && command -v flock >/dev/null 2>&1; then
    local lock
    lock="${TMPDIR:-/tmp}/tb-infra-up.$(id -u).lock"
    if ! flock -n "$lock" true; then
      log "Another infra-up.sh run is in progress; waiting for it (up to 120 s; lock $lock)"
    fi
    export TB_INFRA_UP_LOCKED=1
    exec flock -o -w 120 -E "$EXIT_FAIL" "$lock" bash "$0" "$@"
  fi

  detect_privilege
  decide_mode
  plan
  if [[ "$PG_NEEDS_START" == yes || "$NATS_NEEDS_START" == yes ]]; then
    log "Mode: $MODE (user $(id -un), privilege: $PRIV)"
  fi
  ensure_postgres
  ensure_nats
  [[ -n "$PSQL" ]] || die "$EXIT_MISSING" "psql not found: sudo apt-get install -y postgresql-client"
  ensure_role_and_databases

  log "Ready."
  log "  Postgres $(db_url)/{$(IFS=,; echo "${DATABASES[*]}")}  $PG_HOW"
  log "  NATS     nats://$INFRA_HOST:$NATS_PORT  $NATS_HOW"
  echo "DATABASE_URL_BASE=$(db_url)"
  echo "NATS_URL=nats://$INFRA_HOST:$NATS_PORT"
}

main "$@"
