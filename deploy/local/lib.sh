# shellcheck shell=bash
# Variables below are used by the scripts that source this file.
# shellcheck disable=SC2034
# Shared helpers for infra-up.sh and infra-down.sh. Sourced, not executed.
#
# Everything here talks to 127.0.0.1 only: the local stack never listens on other interfaces.
# Progress messages go to stderr so that stdout of infra-up.sh carries only its summary.

# ---------------------------------------------------------------------------------------------
# Locations and settings (env overrides documented in README.md)
# ---------------------------------------------------------------------------------------------

DEPLOY_LOCAL_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$DEPLOY_LOCAL_DIR/../.." && pwd)"

INFRA_HOST=127.0.0.1
PG_PORT="${PG_PORT:-5432}"
NATS_PORT="${NATS_PORT:-4222}"
NATS_MONITOR_PORT="${NATS_MONITOR_PORT:-8222}"
# Private mode keeps its clusters, logs and pidfiles here (gitignored: .local/).
INFRA_DIR="${INFRA_DIR:-$REPO_ROOT/.local/infra}"
# Absolute, so that the paths in server command lines (which infra-down.sh matches) are too.
[[ "$INFRA_DIR" == /* ]] || INFRA_DIR="$PWD/$INFRA_DIR"
# auto | system | private (see README.md).
INFRA_MODE="${INFRA_MODE:-auto}"
# Name of the Debian cluster used in system mode (pg_createcluster <ver> <name>).
PG_CLUSTER="${PG_CLUSTER:-main}"

# Private-mode layout; infra-down.sh relies on exactly these paths.
PRIV_PG_DIR="$INFRA_DIR/pg"
PRIV_PGDATA="$PRIV_PG_DIR/data"
PRIV_PG_LOG="$PRIV_PG_DIR/postgres.log"
PRIV_NATS_DIR="$INFRA_DIR/nats"
PRIV_NATS_STORE="$PRIV_NATS_DIR/jetstream"
PRIV_NATS_PID="$PRIV_NATS_DIR/nats-server.pid"
PRIV_NATS_LOG="$PRIV_NATS_DIR/nats-server.log"

# Exit codes shared by the scripts (documented in README.md).
readonly EXIT_FAIL=1          # something failed while starting / configuring
readonly EXIT_USAGE=2         # bad arguments or environment
readonly EXIT_MISSING=3       # binaries missing and we may not install them
readonly EXIT_NO_JETSTREAM=4  # a NATS server answers on the port but JetStream is off
readonly EXIT_PORT_TAKEN=5    # the port is held by something that is not what we need

# ---------------------------------------------------------------------------------------------
# Logging
# ---------------------------------------------------------------------------------------------

log()  { printf '[infra] %s\n' "$*" >&2; }
warn() { printf '[infra] WARNING: %s\n' "$*" >&2; }
# die <exit-code> <message lines...>
# die <exit-code> <first line> [more lines]: the first line says what is wrong, the others how
# to fix it.
die() {
  local code="$1"; shift
  printf '[infra] ERROR: %s\n' "$1" >&2; shift
  local line
  for line in "$@"; do printf '[infra]   %s\n' "$line" >&2; done
  exit "$code"
}

validate_port() { # <name> <value>
  if ! [[ "$2" =~ ^[0-9]+$ ]] || (( "$2" > 65535 )); then
    die "$EXIT_USAGE" "$1 must be a TCP port number, got '$2'"
  fi
}

# ---------------------------------------------------------------------------------------------
# TCP probes. Bash's /dev/tcp needs no extra tools; python3 is the fallback for a bash built
# without network redirections (rare, but then /dev/tcp/... is just a missing file).
# ---------------------------------------------------------------------------------------------

_DEV_TCP=""
have_dev_tcp() {
  if [[ -z "$_DEV_TCP" ]]; then
    # Port 1 is almost never open: a bash with /dev/tcp says "Connection refused",
    # one without it says "No such file or directory".
    local err
    err="$( (exec 3<>"/dev/tcp/$INFRA_HOST/1") 2>&1 || true)"
    if [[ "$err" == *"No such file"* ]]; then _DEV_TCP=no; else _DEV_TCP=yes; fi
  fi
  [[ "$_DEV_TCP" == yes ]]
}

# port_open <port>: true if something accepts TCP connections on 127.0.0.1:<port>.
port_open() {
  if have_dev_tcp; then
    # shellcheck disable=SC2016 # $0/$1 are expanded by the inner bash
    timeout 2 bash -c 'exec 3<>"/dev/tcp/$0/$1"' "$INFRA_HOST" "$1" 2>/dev/null
  else
    python3 - "$INFRA_HOST" "$1" <<'PY' 2>/dev/null
import socket, sys
socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=2).close()
PY
  fi
}

# pg_answers <port>: true if a PostgreSQL server is behind the port. Sends the 8-byte
# SSLRequest; any Postgres answers a single 'S' or 'N'. Needs no client tools.
pg_answers() {
  if have_dev_tcp; then
    # shellcheck disable=SC2016 # expanded by the inner bash
    LC_ALL=C timeout 3 bash -c '
      exec 3<>"/dev/tcp/$0/$1" || exit 1
      printf "\x00\x00\x00\x08\x04\xd2\x16\x2f" >&3
      IFS= read -r -N 1 -t 2 -u 3 b || exit 1
      [[ "$b" == S || "$b" == N ]]' "$INFRA_HOST" "$1" 2>/dev/null
  else
    python3 - "$INFRA_HOST" "$1" <<'PY' 2>/dev/null
import socket, sys
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=2)
s.sendall(b"\x00\x00\x00\x08\x04\xd2\x16\x2f")
sys.exit(0 if s.recv(1) in (b"S", b"N") else 1)
PY
  fi
}

# nats_js_status <port>: prints one word, then optionally a detail:
#   on        a NATS server with JetStream enabled for our (default) account
#   off       a NATS server, JetStream off (error reply, 503 no-responders, or no reply)
#   auth      a NATS server that wants credentials (we cannot check; not ours)
#   not-nats  something answers on the port but does not speak NATS
#   closed    nothing accepts connections on the port
# How: a core request to $JS.API.INFO over the text protocol. The monitoring port (healthz)
# is not used because the server pre-started on the project's machines has none, and
# async-nats' query_account is broken against server 2.9. "headers"+"no_responders" make a
# server without JetStream answer at once with a 503 instead of letting us wait for a timeout.
nats_js_status() {
  local port="$1"
  port_open "$port" || { echo closed; return 0; }
  if have_dev_tcp; then _nats_js_status_bash "$port"; else _nats_js_status_python "$port"; fi
}

# Runs in a subshell (parentheses) so that ignoring SIGPIPE stays local: a server that
# rejects our CONNECT closes the socket while we may still be writing.
_nats_js_status_bash() (
  trap '' PIPE
  local port="$1" fd line payload n i req
  local LC_ALL=C # byte counts in MSG lines are bytes; make read -N count bytes too
  # (braces: a bare "exec ... 2>/dev/null" would silence stderr for the rest of the shell)
  { exec {fd}<>"/dev/tcp/$INFRA_HOST/$port"; } 2>/dev/null || { echo closed; return 0; }
  if ! IFS= read -r -t 2 -u "$fd" line || [[ "$line" != INFO* ]]; then
    exec {fd}>&-; echo not-nats; return 0
  fi
  # One write for the whole request (printf with several arguments may write piecemeal).
  # shellcheck disable=SC2016 # $JS is a literal subject, not a variable
  req="$(printf '%s\r\n' \
    'CONNECT {"verbose":false,"pedantic":false,"headers":true,"no_responders":true,"name":"tb-infra-check"}' \
    'SUB _INBOX.tbchk 1' \
    'PUB $JS.API.INFO _INBOX.tbchk 0' '' \
    'PING')"
  printf '%s\n' "$req" 2>/dev/null 1>&"$fd" || true
  local result="off no reply to \$JS.API.INFO (JetStream not enabled)"
  for ((i = 0; i < 20; i++)); do
    IFS= read -r -t 3 -u "$fd" line || break
    line="${line%$'\r'}"
    case "$line" in
      "MSG _INBOX.tbchk "*)
        n="${line##* }"
        IFS= read -r -N "$((n + 2))" -t 2 -u "$fd" payload || payload=""
        if [[ "$payload" == *'"type":"io.nats.jetstream.api.v1.account_info_response"'* \
              && "$payload" != *'"error"'* ]]; then
          result=on
        else
          result="off \$JS.API.INFO answered with an error: ${payload%$'\r\n'}"
        fi
        break ;;
      "HMSG _INBOX.tbchk "*)
        # Headers only (no_responders): "NATS/1.0 503" means nobody serves $JS.API.>.
        n="${line##* }"
        IFS= read -r -N "$((n + 2))" -t 2 -u "$fd" payload || payload=""
        if [[ "$payload" == *"NATS/1.0 503"* ]]; then
          result="off no responders for \$JS.API.INFO (server runs without -js)"
        else
          result="off unexpected reply: ${payload%%$'\r'*}"
        fi
        break ;;
      -ERR*)
        if [[ "$line" == *uthoriz* ]]; then result="auth $line"; else result="off server error: $line"; fi
        break ;;
      PING) printf 'PONG\r\n' 2>/dev/null 1>&"$fd" || true ;;
      *) ;; # PONG, +OK: keep waiting, the JetStream reply may come after our PONG
    esac
  done
  exec {fd}>&-
  echo "$result"
)

_nats_js_status_python() {
  python3 - "$INFRA_HOST" "$1" <<'PY'
import socket, sys
try:
    s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=3)
except OSError:
    print("closed"); sys.exit(0)
f = s.makefile("rb")
try:
    if not f.readline().startswith(b"INFO"):
        print("not-nats"); sys.exit(0)
except OSError:
    print("not-nats"); sys.exit(0)
s.sendall(b'CONNECT {"verbose":false,"pedantic":false,"headers":true,"no_responders":true,'
          b'"name":"tb-infra-check"}\r\nSUB _INBOX.tbchk 1\r\nPUB $JS.API.INFO _INBOX.tbchk 0\r\n\r\nPING\r\n')
result = "off no reply to $JS.API.INFO (JetStream not enabled)"
try:
    for _ in range(20):
        line = f.readline().rstrip(b"\r\n").decode()
        if not line:
            break
        if line.startswith(("MSG _INBOX.tbchk ", "HMSG _INBOX.tbchk ")):
            body = f.read(int(line.split()[-1]) + 2).decode(errors="replace")
            if line.startswith("HMSG"):
                result = ("off no responders for $JS.API.INFO (server runs without -js)"
                          if "NATS/1.0 503" in body else "off unexpected reply")
            elif ('"type":"io.nats.jetstream.api.v1.account_info_response"' in body
                  and '"error"' not in body):
                result = "on"
            else:
                result = "off $JS.API.INFO answered with an error: " + body.strip()
            break
        if line.startswith("-ERR"):
            result = ("auth " if "uthoriz" in line else "off server error: ") + line
            break
        if line == "PING":
            s.sendall(b"PONG\r\n")
except OSError:
    pass
print(result)
PY
}

# ---------------------------------------------------------------------------------------------
# Finding binaries. Debian keeps the server tools off PATH (/usr/lib/postgresql/<ver>/bin,
# /usr/sbin/nats-server), so look there too.
# ---------------------------------------------------------------------------------------------

# pg_version_bindirs: /usr/lib/postgresql/<ver>/bin, newest major version first.
pg_version_bindirs() {
  local d
  for d in /usr/lib/postgresql/*/bin; do if [[ -d "$d" ]]; then echo "$d"; fi; done | sort -V -r
}

# find_pg_bindir: prints the directory holding initdb/pg_ctl/postgres, or nothing.
find_pg_bindir() {
  local d
  if command -v pg_config >/dev/null 2>&1; then
    d="$(pg_config --bindir 2>/dev/null || true)"
    # pg_config may come from libpq-dev alone, whose bindir has no server: check.
    if [[ -n "$d" && -x "$d/initdb" && -x "$d/pg_ctl" ]]; then echo "$d"; return 0; fi
  fi
  # Newest installed major version wins.
  for d in $(pg_version_bindirs); do
    if [[ -x "$d/initdb" && -x "$d/pg_ctl" ]]; then echo "$d"; return 0; fi
  done
  return 0
}

# find_nats_server: prints the path of nats-server, or nothing.
find_nats_server() {
  if command -v nats-server >/dev/null 2>&1; then command -v nats-server; return 0; fi
  local p
  for p in /usr/sbin/nats-server /usr/local/bin/nats-server /usr/local/sbin/nats-server; do
    if [[ -x "$p" ]]; then echo "$p"; return 0; fi
  done
  return 0
}

# find_pg_client <tool> [bindir]: psql / pg_isready from PATH or the server's bindir.
# Each candidate must actually run: Debian's /usr/bin/psql is a wrapper script that fails when
# no client version is installed any more.
find_pg_client() {
  local c candidates=()
  if command -v "$1" >/dev/null 2>&1; then candidates+=("$(command -v "$1")"); fi
  if [[ -n "${2:-}" ]]; then candidates+=("$2/$1"); fi
  for c in $(pg_version_bindirs); do candidates+=("$c/$1"); done
  for c in "${candidates[@]}"; do
    if [[ -x "$c" ]] && "$c" --version >/dev/null 2>&1; then echo "$c"; return 0; fi
  done
  return 0
}

# ---------------------------------------------------------------------------------------------
# Processes
# ---------------------------------------------------------------------------------------------

# pid_is <pid> <name>: true if the pid is alive and its command line mentions <name>
# (guards against a stale pidfile whose pid was reused by an unrelated process).
pid_is() {
  local pid="$1" name="$2"
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  kill -0 "$pid" 2>/dev/null || [[ -d "/proc/$pid" ]] || return 1
  if [[ -r "/proc/$pid/cmdline" ]]; then
    tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q -- "$name"
  else
    ps -p "$pid" -o args= 2>/dev/null | grep -q -- "$name"
  fi
}

# wait_until <seconds> <command...>: polls every 0.2 s until the command succeeds.
wait_until() {
  local deadline=$((SECONDS + $1)); shift
  until "$@"; do
    (( SECONDS < deadline )) || return 1
    sleep 0.2
  done
}
