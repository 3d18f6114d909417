#!/usr/bin/env bash
# Starts, stops and reports the five services (and the local Tradier-compatible server the
# fetcher talks to, and the market feed publishing quotes) for `just up` / `just down` /
# `just status`. Each runs in the background from target/$PROFILE (debug by default; benchmarks
# use PROFILE=release) with its own config folder; logs go to .local/logs/<service>.log and
# pids to .local/run/<service>.pid.
set -euo pipefail
cd "$(dirname "$0")/../.."

SERVICES=(tradier-sim market-feed trade-ledger outbox-broker-fetcher backtest-executor live-session-runner gateway)
TRADIER_ADDR=${TRADIER_ADDR:-127.0.0.1:8090}
FEED_PORT=8091 # crates/market-feed/config/default.toml
LOGS=.local/logs
RUN=.local/run
GATEWAY_PORT=${APP_HTTP__PORT:-8080}
PROFILE=${PROFILE:-debug}
mkdir -p "$LOGS" "$RUN"

running() { # service -> 0 when its recorded pid is alive
    local pidfile="$RUN/$1.pid"
    [[ -f $pidfile ]] && kill -0 "$(cat "$pidfile")" 2>/dev/null
}

# GET on 127.0.0.1:<port><path> with bash's /dev/tcp, so no curl is needed. Prints the body
# and returns 0 when the status is 200.
http_get() {
    local port=$1 path=$2 response
    exec 3<>"/dev/tcp/127.0.0.1/$port" || return 1
    printf 'GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n' "$path" >&3
    response=$(timeout 5 cat <&3 || true)
    exec 3>&-
    printf '%s\n' "${response#*$'\r\n\r\n'}"
    [[ $response == "HTTP/1."?" 200"* ]]
}

start() {
    for service in "${SERVICES[@]}"; do
        if running "$service"; then
            echo "$service already running (pid $(cat "$RUN/$service.pid"))"
            continue
        fi
        local profile=$PROFILE args=(serve) config=services/$service/config
        # The feed is no benchmark's subject: a release system whose benchmark built no release
        # feed runs the debug one (`just up` always builds debug).
        [[ $service == market-feed && ! -x target/$profile/$service ]] && profile=debug
        [[ -x target/$profile/$service ]] || { echo "target/$profile/$service is missing: run 'just build'" >&2; exit 1; }
        [[ $service == tradier-sim ]] && args=(--addr "$TRADIER_ADDR")
        [[ $service == market-feed ]] && args=() config=crates/market-feed/config
        # GATEWAY_RATE_LIMIT (requests/s per key, every family) lifts the gateway's per-key limit
        # for load generators; it is passed to the gateway alone (the backends would refuse an
        # unknown gateway setting).
        local env=()
        if [[ $service == gateway && -n ${GATEWAY_RATE_LIMIT:-} ]]; then
            for family in BOT PARTNER USER; do
                env+=("APP_GATEWAY__RATE_LIMITS__${family}__PER_SECOND=$GATEWAY_RATE_LIMIT"
                      "APP_GATEWAY__RATE_LIMITS__${family}__BURST=$((GATEWAY_RATE_LIMIT * 2))")
            done
        fi
        env "${env[@]}" APP_CONFIG_DIR="$config" setsid "target/$profile/$service" "${args[@]}" \
            >>"$LOGS/$service.log" 2>&1 </dev/null &
        echo $! >"$RUN/$service.pid"
        echo "started $service ($profile, pid $!, log $LOGS/$service.log)"
    done
    echo -n "waiting for the gateway's /status to be green "
    for _ in $(seq 1 120); do
        if http_get "$GATEWAY_PORT" /status >/dev/null 2>&1; then
            echo
            http_get "$GATEWAY_PORT" /status
            echo
            echo "The gateway is at http://127.0.0.1:$GATEWAY_PORT"
            echo "  curl http://127.0.0.1:$GATEWAY_PORT/status"
            echo "  API docs: http://127.0.0.1:$GATEWAY_PORT/docs   OpenAPI: http://127.0.0.1:$GATEWAY_PORT/openapi.json"
            echo "Market feed (quotes on NATS): curl http://127.0.0.1:$FEED_PORT/_feed/symbols"
            echo "Logs: just logs <service>   Stop: just down"
            return 0
        fi
        for service in "${SERVICES[@]}"; do
            running "$service" || { echo; echo "$service exited; last log lines:" >&2; tail -n 20 "$LOGS/$service.log" >&2; exit 1; }
        done
        echo -n .
        sleep 0.5
    done
    echo
    echo "the gateway's /status did not turn green within 60 s:" >&2
    http_get "$GATEWAY_PORT" /status >&2 || true
    exit 1
}

stop() {
    for service in "${SERVICES[@]}"; do
        if running "$service"; then
            kill -TERM "$(cat "$RUN/$service.pid")"
        fi
    done
    for service in "${SERVICES[@]}"; do
        local pidfile="$RUN/$service.pid"
        [[ -f $pidfile ]] || continue
        local pid
        pid=$(cat "$pidfile")
        # Services drain in-flight work on SIGTERM; give them their shutdown timeout, then kill.
        for _ in $(seq 1 30); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
        if kill -0 "$pid" 2>/dev/null; then
            echo "$service did not stop in 15 s; killing it"
            kill -KILL "$pid" 2>/dev/null || true
        fi
        rm -f "$pidfile"
        echo "stopped $service"
    done
}

status() {
    for service in "${SERVICES[@]}"; do
        if running "$service"; then echo "$service: running (pid $(cat "$RUN/$service.pid"))"; else echo "$service: stopped"; fi
    done
    echo "gateway /status:"
    http_get "$GATEWAY_PORT" /status || true
}

case "${1:-}" in
    start) start ;;
    stop) stop ;;
    status) status ;;
    *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
