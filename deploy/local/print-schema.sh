#!/usr/bin/env bash
# Regenerates services/<svc>/src/store/schema.rs: applies the service's migrations to a scratch
# database, runs `diesel print-schema` with the service's diesel.toml, and drops the database.
# Needs diesel_cli: apt-get install -y libpq-dev && cargo install diesel_cli --no-default-features --features postgres
set -euo pipefail
cd "$(dirname "$0")/../.."
svc=${1:?usage: print-schema.sh <service>}
command -v diesel >/dev/null || { echo "diesel_cli is missing: apt-get install -y libpq-dev && cargo install diesel_cli --no-default-features --features postgres --locked" >&2; exit 1; }
base=${DATABASE_URL_BASE:-postgres://tb:tb@127.0.0.1:5432}
scratch="schema_${svc//-/_}_$$"
psql "$base/postgres" -qc "CREATE DATABASE \"$scratch\""
trap 'psql "$base/postgres" -qc "DROP DATABASE IF EXISTS \"$scratch\" WITH (FORCE)"' EXIT
cd "services/$svc"
diesel migration run --database-url "$base/$scratch" --migration-dir migrations >/dev/null
diesel print-schema --database-url "$base/$scratch" >/dev/null
echo "wrote services/$svc/src/store/schema.rs"
