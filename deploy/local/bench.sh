#!/usr/bin/env bash
# `just bench <target>`: benchmarks against the local system.
#
#   outbox   participations through the Bot API in batches of 10 at --rate participations/s
#            (default 500) for --duration s, until each is fetched from the local Tradier
#            server and applied in the ledger: fetched/s and commit→fetched p50/p99.
#   engine   the trading engine alone (crates/engine): candles/s of the spot grid and DCA bots
#            on BTC_USDT-1m and a 1,000,000-candle ping-pong series, peak memory. No services.
#   backtest the engine benchmark above, then one 1,000,000-candle spot grid backtest end to
#            end in the backtest-executor (`run-backtest`: stored as POST /bots/backtest stores
#            it, run by a worker in that process, results written): load-from-Postgres, engine,
#            store and total times, candles/s and the process's peak RSS (VmHWM). The series is
#            BTC_USDT-1m replicated ping-pong into .local/bench/ (generated, never committed) and
#            imported as SIM_BTC_USDT_ 1m from 2030-01-01, clear of the real data (idempotent).
#            Then the same backtest through the API on the release system (POST, poll status,
#            results): POST -> completed wall time and the executor process's peak RSS.
#            Targets: <= 3 s end to end, <= 100 MB resident.
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
SERVICES=(tradier-sim market-feed trade-ledger outbox-broker-fetcher backtest-executor live-session-runner gateway)

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
    # The gateway's per-key limit would turn the load into 429s: lift it for the benchmark.
    PROFILE=release GATEWAY_RATE_LIMIT=1000000 just up
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
        exec "${CARGO_TARGET_DIR:-target}/release/loadgen" --gateway "http://127.0.0.1:$GATEWAY_PORT" "$@"
        ;;
    engine)
        exec cargo run --release --locked -p engine --bin engine-bench -- \
            --data deploy/local/marketdata/BTC_USDT-1m.csv "$@"
        ;;
    backtest)
        cargo run --release --locked -p engine --bin engine-bench -- --data deploy/local/marketdata/BTC_USDT-1m.csv
        cargo build --release --locked -p backtest-executor
        executor=${CARGO_TARGET_DIR:-target}/release/backtest-executor
        export APP_CONFIG_DIR=services/backtest-executor/config APP_LOG__LEVEL=warn
        candles=1000000 start=1893456000 # 2030-01-01T00:00:00Z
        series=.local/bench/BTC_USDT-1m-pingpong-$candles.csv
        mkdir -p .local/bench
        [[ -f $series ]] || "$executor" generate-candles --source deploy/local/marketdata/BTC_USDT-1m.csv \
            --candles "$candles" --start "$start" --out "$series"
        "$executor" migrate
        "$executor" import-candles --market SIM_BTC_USDT_ --timeframe 1m --file "$series"
        settings='{"symbol": "SIM_BTC_USDT_", "lowerLimit": 25000, "upperLimit": 31000, "gridCount": 30,
            "investmentAsset": "Quote", "investmentAmount": 9900}'
        report=$("$executor" run-backtest --type spot_grid --settings "$settings" \
            --start "$start" --end $((start + candles * 60)))
        echo "$report"
        command -v python3 >/dev/null || exit 0
        python3 - "$report" <<'PY'
import json, sys
r = json.loads(sys.argv[1])
print(f"backtest {r['backtestId']}: {r['state']}, {r['candles']:,} candles")
print(f"  start (validate + store the request) {r['startMs']:8.0f} ms")
print(f"  load from Postgres                   {r['loadMs']:8.0f} ms")
print(f"  engine                               {r['engineMs']:8.0f} ms")
print(f"  checkpoints (progress, lease)        {r['checkpointMs']:8.0f} ms")
print(f"  store results, logs, positions       {r['storeMs']:8.0f} ms")
print(f"  total wall time                      {r['totalSeconds'] * 1000:8.0f} ms   (target <= 3000)")
print(f"  throughput                           {r['candlesPerSecond']:8.0f} candles/s")
print(f"  peak RSS (VmHWM)                     {r['peakRssMb']:8.1f} MB   (target <= 100)")
PY
        # The same backtest through the API: gateway -> executor -> worker -> results.
        packages=()
        for service in "${SERVICES[@]}"; do packages+=(-p "$service"); done
        cargo build --release --locked "${packages[@]}"
        ensure_up
        python3 deploy/local/bench_backtest_api.py "http://127.0.0.1:$GATEWAY_PORT" "$start" \
            $((start + candles * 60)) "$candles" .local/run/backtest-executor.pid
        ;;
    outbox)
        packages=(-p loadgen)
        for service in "${SERVICES[@]}"; do packages+=(-p "$service"); done
        cargo build --release --locked "${packages[@]}"
        ensure_up
        exec "${CARGO_TARGET_DIR:-target}/release/loadgen" --gateway "http://127.0.0.1:$GATEWAY_PORT" --scenario outbox --duration 60 "$@"
        ;;
    *) usage ;;
esac
