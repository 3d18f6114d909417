# Trading-bot platform: `just` lists the recipes.

set shell := ["bash", "-euo", "pipefail", "-c"]
# Recipe arguments reach the commands as "$@", each one whole: `just admin create-bot --name "My bot"`
# passes "My bot" as one argument (interpolating {{args}} would split it at the space).
set positional-arguments

# Where cargo puts binaries: honours CARGO_TARGET_DIR like cargo does.
debug_bin := env("CARGO_TARGET_DIR", "target") / "debug"

backends := "trade-ledger outbox-broker-fetcher backtest-executor live-session-runner"

# List the recipes.
default:
    @just --list --unsorted

# Run the whole system: infrastructure, migrations, build, demo data, all five services plus tradier-sim and market-feed, wait for green /status.
up: infra migrate candles
    bash deploy/local/seed.sh --once
    bash deploy/local/services.sh start
    @echo "Demo keys (partner, user, bot): .local/seed.json"

# Import the repository's candle files into the backtest-executor as the SIM markets (idempotent).
candles: migrate
    bash deploy/local/import-candles.sh

# Create a demo set (partner, user, broker account, tickers, a bot with followers) and print it as JSON.
seed: migrate
    bash deploy/local/seed.sh

# Run a ledger admin command against the local database (e.g. `just admin create-bot --slug my-bot --name "My bot"`).
admin *args: build
    APP_CONFIG_DIR=services/trade-ledger/config APP_LOG__LEVEL=warn "{{debug_bin}}/trade-ledger" admin "$@"

# Run a fetcher admin command against the local database (e.g. `just fetcher-admin dead-letters`; set-credentials reads the token from stdin).
fetcher-admin *args: build
    APP_CONFIG_DIR=services/outbox-broker-fetcher/config APP_LOG__LEVEL=warn "{{debug_bin}}/outbox-broker-fetcher" admin "$@"

# Stop what `just up` started, market feed included (Postgres and NATS keep running; `just infra-down` stops ours).
down:
    bash deploy/local/services.sh stop

# Show each service's process and the gateway's /status.
status:
    bash deploy/local/services.sh status

# Follow one service's log (e.g. `just logs trade-ledger`).
logs svc:
    tail -n 100 -F ".local/logs/$1.log"

# Make Postgres (role tb, four databases) and NATS with JetStream available, installing them if missing.
infra:
    bash deploy/local/infra-up.sh

# Stop a private Postgres / NATS that `just infra` started in .local/ (never the system's own).
infra-down:
    bash deploy/local/infra-down.sh

# Build every service binary (debug).
build:
    cargo build --locked --workspace --bins

# Build one service's release binary (the command the container image uses).
build-release svc:
    cargo build --release --locked -p "$1"

# Apply every backend's migrations to its local database.
migrate: build
    for svc in {{backends}}; do APP_CONFIG_DIR=services/$svc/config "{{debug_bin}}/$svc" migrate; done

# Run every test (unit, integration, end-to-end) against the local Postgres and NATS.
test:
    if cargo nextest --version >/dev/null 2>&1; then cargo nextest run --workspace --locked --no-fail-fast; else cargo test --workspace --locked --no-fail-fast; fi

# Check the dependency rule (no service depends on another service, no library crate on a service except crates/e2e; tools/* may depend on anything), formatting, and clippy with warnings as errors.
lint:
    python3 deploy/ci/check-dependencies.py
    cargo fmt --all --check
    cargo clippy --workspace --all-targets --locked -- -D warnings

# Format the code.
fmt:
    cargo fmt --all

# Regenerate proto/ (NATS subject catalogue and message schemas) from the bus crate.
proto:
    cargo run --quiet --locked -p bus --bin proto -- proto

# Regenerate each service's copy of the shared migrations (outbox, inbox, idempotency) from crates/outbox/migrations and crates/platform/migrations.
migrations:
    cargo run --quiet --locked -p outbox --bin migrations -- .

# Regenerate deploy/nats/permissions.conf (one NATS user per service, permissions from the subject catalogue).
nats-config:
    cargo run --quiet --locked -p bus --bin nats-config -- deploy/nats/permissions.conf tb

# Render every Kubernetes overlay offline and validate it against the Kubernetes schemas.
k8s:
    bash deploy/k8s/check.sh

# Regenerate a service's diesel schema.rs from its migrations (needs diesel_cli: see README).
schema svc:
    bash deploy/local/print-schema.sh "$1"

# Run a benchmark in release: `just bench ingest`, `just bench outbox`, `just bench engine`, `just bench backtest`, `just bench live` (see deploy/local/bench.sh).
bench target *args:
    bash deploy/local/bench.sh "$@"

# Fuzz the Bot and Partner APIs of the running system with schemathesis (`just up` first, or it starts it; at most 5 minutes; see deploy/local/fuzz.sh).
fuzz:
    bash deploy/local/fuzz.sh
