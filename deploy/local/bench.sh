#!/usr/bin/env bash
# `just bench <target>`: benchmarks against the local system.
#
#   outbox   participations through the Bot API in batches of 10 at --rate participations/s
#            (default 500) for --duration s, until each is fetched from the local Tradier
#            server and applied in the ledger: fetched/s and commit→fetched p50/p99.
#   engine   the trading engine alone (crates/engine): candles/s of the spot grid and DCA bots
#            on BTC_USDT-1m and a 1,000,000-candle ping-pong series, peak memory. No services.
#   ingest   Bot API ingest (POST state x10, participations, transactions) through the gateway
#            at 64 concurrent clients, then the same SQL straight on Postgres; prints req/s,
#            p50/p99 and the gateway/direct ratio against the targets (crates/loadgen/README.md).
#
# The figures are for release builds: it builds the services and the load generator in
# release, and makes sure the five services run from target/release (`PROFILE=release just up`),
# restarting them when `just up` started debug builds. BENCH_REUSE=1 benchmarks whatever runs.
# Arguments after the target go to the load generator, e.g.
#   bash deploy/local/bench.sh ingest --duration 5 --scenario state
#   bash deploy/local/bench.sh ingest --rate 500        # latency at a fixed load
set -euo pipefail
cd "$(dirname "$0")/../.."

GATEWAY_PORT=${APP_HTTP__PORT:-8080}
SERVICES=(tradier-sim trade-ledger outbox-broker-fetcher backtest-executor live-session-runner gateway)

usage() {
    echo "usage: $0 ingest|outbox|engine [loadgen flags, see: cargo run -p loadgen -- --help]" >&2
    exit 2
}

# 0 when GET /status on the gateway answers 200 (every backend up). Bash's /dev/tcp: no curl needed.
gateway_green() {
    local response
    exec 3<>"/dev/tcp/127.0.0.1/$GATEWAY_PORT" 2>/dev/null || return 1
    printf 'GET /status HTTP/1.0\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n' >&3
    response=$(timeout 5 cat <&3 || true)
    exec 3>&-
    [[ $response == "HTTP/1."?" 200"* ]]
}

# The profile (debug / release) the running gateway was started from, or "unknown".
running_profile() {
    local pid exe
    pid=$(cat .local/run/gateway.pid 2>/dev/null) || { echo unknown; return; }
    exe=$(readlink "/proc/$pid/exe" 2>/dev/null) || { echo unknown; return; }
    case $exe in
        */target/release/*) echo release ;;
        */target/debug/*) echo debug ;;
        *) echo unknown ;;
    esac
}

ensure_up() {
    command -v just >/dev/null || { echo "'just' is missing: install it (cargo install just --locked)" >&2; exit 1; }
    if gateway_green && [[ -f .local/seed.json ]]; then
        local profile
        profile=$(running_profile)
        if [[ $profile == release || ${BENCH_REUSE:-0} == 1 ]]; then
            echo "reusing the running services ($profile build, gateway on 127.0.0.1:$GATEWAY_PORT)"
            return
        fi
        echo "the running services are $profile builds: restarting them from target/release (BENCH_REUSE=1 keeps them)"
        just down
    else
        echo "the gateway's /status is not green: starting the system"
    fi
    PROFILE=release just up
    echo "the services keep running from target/release; 'just down' stops them"
}

target=${1:-}
[[ $# -gt 0 ]] && shift
case $target in
    ingest)
        packages=(-p loadgen)
        for service in "${SERVICES[@]}"; do packages+=(-p "$service"); done
        cargo build --release --locked "${packages[@]}"
        ensure_up
        exec target/release/loadgen --gateway "http://127.0.0.1:$GATEWAY_PORT" "$@"
        ;;
    engine)
        exec cargo run --release --locked -p engine --bin engine-bench -- \
            --data deploy/local/marketdata/BTC_USDT-1m.csv "$@"
        ;;
    outbox)
        packages=(-p loadgen)
        for service in "${SERVICES[@]}"; do packages+=(-p "$service"); done
        cargo build --release --locked "${packages[@]}"
        ensure_up
        exec target/release/loadgen --gateway "http://127.0.0.1:$GATEWAY_PORT" --scenario outbox --duration 60 "$@"
        ;;
    *) usage ;;
esac
