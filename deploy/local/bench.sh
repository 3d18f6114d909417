#!/usr/bin/env bash
# `just bench <target>`: benchmarks against the local system.
#
#   outbox   participations through the Bot API in batches of 10 at --rate participations/s
#            (default 500) for --duration s, until each is fetched from the local Tradier
#            server and applied in the ledger: fetched/s and commit→fetched p50/p99.
#   engine   the trading engine alone (crates/engine): candles/s of the spot grid and DCA bots
#            on BTC_USDT-1m and a 1,000,000-candle ping-pong series, peak memory. No services.
#   backtest the engine benchmark above, then the backtest-executor on a 1,000,000-candle series
#            (BTC_USDT-1m replicated ping-pong into .local/bench/, generated, never committed,
#            imported as SIM_BTC_USDT_ 1m from 2030-01-01, clear of the real data): the import
#            (first and repeated), one spot grid backtest end to end in the executor
#            (`run-backtest`: stored as POST /bots/backtest stores it, run by a worker in that
#            process, results written) with its breakdown (load, read-ahead, engine,
#            checkpoints, store), candles/s and peak RSS (VmHWM), then 4 such backtests at once
#            on 1, 2 and 4 workers (throughput vs workers), then the same backtest through the
#            API on the release system (POST -> completed, the executor's peak RSS), alone and
#            4 at once. Targets: <= 500 ms through the API, <= 100 MB resident.
#            BENCH_BEFORE=<backtest-executor binary of an older checkout> runs the same steps
#            with that binary too, on its own database (backtest_before), side by side, and
#            checks that both give the same results.
#   live     one live-session-runner in-process (services/live-session-runner/src/bin/live_bench):
#            --bots hosted bots (default 1,000: half spot grids, half DCA bots, alternating
#            between SIM_BTC_USDT_ and SIM_ETH_USDT_) on a scratch database and a random NATS
#            prefix (both removed afterwards), quotes walked from the candle files of
#            deploy/local/marketdata. The first quote per market (opening orders), then
#            --quotes per market (default 2,000) published as fast as the runner decides, then
#            --paced-secs (default 30) at 1 quote/s per market. The release trade-ledger runs
#            beside it as a child process (--ledger target/release/trade-ledger, on its own
#            scratch database <runner's>_ledger and the same prefix): the bots are created
#            through its commands, as the gateway does, and it consumes the runner's fills.
#            Prints quote → decision (the engine calls, no database), quote → persisted (fenced
#            commit included) and fill → ledger (start of the runner's commit → start of the
#            ledger's transaction that applied the fill) p50/p99/max, CPU of the runner, the
#            ledger, Postgres and everything else, bots per core. Targets: decision p99 <= 1 ms
#            and persisted p99 <= 50 ms at 1,000 bots; >= 10,000 bots per runner below one core.
#            Needs only Postgres and NATS (`just infra`), not `just up`. --no-ledger: no ledger,
#            the runs seeded straight into the runner's database (no fill → ledger figure).
#              bash deploy/local/bench.sh live --bots 10000 --quotes 200
#   ingest   Bot API ingest (POST state x10, participations, transactions) through the gateway
#            at 64 concurrent clients, then the same SQL straight on Postgres; prints req/s,
#            p50/p99 and the gateway/direct ratio against the targets (tools/loadgen/README.md).
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
    echo "usage: $0 ingest|outbox|engine|backtest|live [flags; loadgen's: cargo run -p loadgen -- --help," >&2
    echo "       live's: cargo run --release -p live-session-runner --bin live-bench -- --help]" >&2
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

API_SETTINGS='{"symbol": "SIM_BTC_USDT_", "lowerLimit": 25000, "upperLimit": 31000, "gridCount": 30,
    "investmentAsset": "Quote", "investmentAmount": 9900}'
BENCH_CANDLES=1000000 BENCH_START=1893456000 # 2030-01-01T00:00:00Z

# Prints a run-backtest report (one backtest) as a table. Args: label, JSON report.
print_run() {
    python3 - "$1" "$2" <<'PY'
import json, sys
label, r = sys.argv[1], json.loads(sys.argv[2])
print(f"{label}: backtest {r['backtestId']}: {r['state']}, {r['candles']:,} candles")
print(f"  start (validate + store the request) {r['startMs']:8.0f} ms")
print(f"  load (waiting for candles)           {r['loadMs']:8.0f} ms")
print(f"  read-ahead (fetch + decode, overlaps){r.get('readMs', r['loadMs']):8.0f} ms")
print(f"  engine                               {r['engineMs']:8.0f} ms")
print(f"  checkpoints (progress, lease)        {r['checkpointMs']:8.0f} ms")
print(f"  store results, logs, positions       {r['storeMs']:8.0f} ms")
print(f"  total wall time                      {r['totalSeconds'] * 1000:8.0f} ms")
print(f"  throughput                           {r['candlesPerSecond']:8.0f} candles/s")
print(f"  peak RSS (VmHWM)                     {r['peakRssMb']:8.1f} MB   (target <= 100)")
PY
}

# One executor binary over the bench series: migrate, import twice (the second changes
# nothing), one backtest, then 4 at once on 1, 2 and 4 workers. Args: label, binary, database URL.
executor_bench() {
    local label=$1 executor=$2 url=$3 end=$((BENCH_START + BENCH_CANDLES * 60)) report
    export APP_DATABASE__URL=$url
    "$executor" migrate
    for pass in first again; do
        local began=$EPOCHREALTIME imported
        imported=$("$executor" import-candles --market SIM_BTC_USDT_ --timeframe 1m --file "$series")
        echo "$label: import ($pass) $(python3 -c "print(f'{($EPOCHREALTIME - $began) * 1000:.0f} ms')"): $imported"
    done
    report=$("$executor" run-backtest --type spot_grid --settings "$API_SETTINGS" --start "$BENCH_START" --end "$end")
    echo "$report" >".local/bench/run-$label.json"
    print_run "$label" "$report"
    if [[ $label != before ]]; then
        echo "$label: 4 backtests of $BENCH_CANDLES candles at once (throughput vs workers):"
        for workers in 1 2 4; do
            report=$("$executor" run-backtest --type spot_grid --settings "$API_SETTINGS" --start "$BENCH_START" \
                --end "$end" --count 4 --workers "$workers")
            python3 - "$report" <<'PY'
import json, sys
r = json.loads(sys.argv[1])
print(f"  {r['workers']} worker(s): {r['completed']}/{r['count']} completed in {r['runSeconds'] * 1000:6.0f} ms,"
      f" {r['candlesPerSecond'] / 1e6:5.2f} M candles/s, peak RSS {r['peakRssMb']:5.1f} MB")
PY
        done
    fi
    unset APP_DATABASE__URL
}

# The API half runs on a stack of its own, so it never stops or slows a system `just up` runs:
# release builds of the gateway, the ledger and the executor on ports 18080/18081/18083, NATS
# subject prefix `tbbench`, databases ledger_bench and the executor's bench database, a partner
# key made once (.local/bench/partner.json). Pids and logs in .local/bench/.
BENCH_RUN=.local/bench/run BENCH_GATEWAY=18080

ensure_db() { # name
    psql -h 127.0.0.1 -U tb -d postgres -Atc "SELECT 1 FROM pg_database WHERE datname = '$1'" | grep -q 1 ||
        createdb -h 127.0.0.1 -U tb "$1"
}

bench_service() { # name binary port database-url
    local service=$1 binary=$2 port=$3 database=()
    [[ -n ${4:-} ]] && database=("APP_DATABASE__URL=$4")
    env APP_CONFIG_DIR="services/$service/config" APP_HTTP__PORT="$port" APP_NATS__PREFIX=tbbench APP_LOG__LEVEL=warn \
        "${database[@]}" setsid "$binary" serve >>".local/bench/$service.log" 2>&1 </dev/null &
    echo $! >"$BENCH_RUN/$service.pid"
}

bench_stop() { # service...
    local service pid
    for service in "$@"; do
        [[ -f $BENCH_RUN/$service.pid ]] || continue
        pid=$(cat "$BENCH_RUN/$service.pid")
        kill -TERM "$pid" 2>/dev/null || true
        for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
        rm -f "$BENCH_RUN/$service.pid"
    done
}

# Waits until the bench gateway answers a partner route through the ledger and the executor
# (an unknown backtest: 404 from the executor).
bench_ready() {
    local key response
    key=$(python3 -c 'import json;print(json.load(open(".local/bench/partner.json"))["apiKey"])')
    for _ in $(seq 1 120); do
        # In a subshell: a refused connection must not end this script (`exec` would).
        response=$({
            exec 3<>"/dev/tcp/127.0.0.1/$BENCH_GATEWAY" &&
                printf 'GET /partner/v1/bots/backtest/00000000-0000-7000-8000-000000000000/status HTTP/1.0\r\nx-api-key: %s\r\n\r\n' "$key" >&3 &&
                timeout 5 cat <&3
        } 2>/dev/null) || true
        [[ $response == "HTTP/1."?" 404"* ]] && return
        sleep 0.5
    done
    echo "the bench stack did not answer (logs in .local/bench/*.log)" >&2
    exit 1
}

# Starts the bench stack with this executor binary on this database.
bench_stack() { # executor-binary database-url
    local release=${CARGO_TARGET_DIR:-target}/release ledger_url=postgres://tb:tb@127.0.0.1:5432/ledger_bench
    mkdir -p "$BENCH_RUN"
    if [[ ! -f $BENCH_RUN/trade-ledger.pid ]]; then
        ensure_db ledger_bench
        APP_CONFIG_DIR=services/trade-ledger/config APP_DATABASE__URL=$ledger_url "$release/trade-ledger" migrate
        [[ -f .local/bench/partner.json ]] || APP_CONFIG_DIR=services/trade-ledger/config APP_LOG__LEVEL=warn \
            APP_DATABASE__URL=$ledger_url "$release/trade-ledger" admin create-partner --name "Backtest bench" \
            >.local/bench/partner.json
        bench_service trade-ledger "$release/trade-ledger" 18081 "$ledger_url"
        bench_service gateway "$release/gateway" "$BENCH_GATEWAY"
    fi
    bench_service backtest-executor "$1" 18083 "$2"
    bench_ready
}

backtest_bench() {
    local executor=${CARGO_TARGET_DIR:-target}/release/backtest-executor
    local end=$((BENCH_START + BENCH_CANDLES * 60)) now_url=postgres://tb:tb@127.0.0.1:5432/backtest_bench
    local before_url=postgres://tb:tb@127.0.0.1:5432/backtest_before
    cargo run --release --locked -p engine --bin engine-bench -- --data deploy/local/marketdata/BTC_USDT-1m.csv
    cargo build --release --locked -p backtest-executor -p trade-ledger -p gateway
    export APP_CONFIG_DIR=services/backtest-executor/config APP_LOG__LEVEL=warn
    series=.local/bench/BTC_USDT-1m-pingpong-$BENCH_CANDLES.csv
    mkdir -p .local/bench
    [[ -f $series ]] || "$executor" generate-candles --source deploy/local/marketdata/BTC_USDT-1m.csv \
        --candles "$BENCH_CANDLES" --start "$BENCH_START" --out "$series"
    echo "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
    ensure_db backtest_bench
    executor_bench now "$executor" "$now_url"
    if [[ -n ${BENCH_BEFORE:-} ]]; then
        ensure_db backtest_before
        executor_bench before "$BENCH_BEFORE" "$before_url"
    fi
    unset APP_CONFIG_DIR APP_LOG__LEVEL
    # The same backtest through the API: gateway -> ledger (partner key) -> executor -> worker.
    trap 'bench_stop gateway backtest-executor trade-ledger' EXIT
    bench_stack "$executor" "$now_url"
    echo "machine: load average $(cut -d' ' -f1-3 /proc/loadavg)"
    local api=(python3 deploy/local/bench_backtest_api.py "http://127.0.0.1:$BENCH_GATEWAY" "$BENCH_START" "$end"
        "$BENCH_CANDLES" "$BENCH_RUN/backtest-executor.pid" --key-file .local/bench/partner.json)
    "${api[@]}" --label now
    "${api[@]}" --label now-4 --concurrent 4
    if [[ -n ${BENCH_BEFORE:-} ]]; then
        bench_stop backtest-executor
        bench_stack "$BENCH_BEFORE" "$before_url"
        "${api[@]}" --label before
        "${api[@]}" --label before-4 --concurrent 4
        python3 deploy/local/bench_backtest_api.py --compare .local/bench/results-now.json .local/bench/results-before.json
    fi
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
        backtest_bench "$@"
        ;;
    live)
        cargo build --release --locked -p live-session-runner --bin live-bench -p trade-ledger
        release=${CARGO_TARGET_DIR:-target}/release
        exec "$release/live-bench" --data deploy/local/marketdata --ledger "$release/trade-ledger" "$@"
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
