#!/usr/bin/env bash
# `just fuzz`: property-based tests of the Bot API and the Partner API with schemathesis,
# generated from the gateway's own /openapi.json and sent to the running stack.
#
#   1. Installs schemathesis (pinned) into a virtualenv under .local/ once; later runs reuse it.
#   2. Starts the stack with `just up` when the gateway does not answer.
#   3. Creates the records the path parameters point at (deploy/local/fuzz_fixtures.py): a
#      trade of the demo bot with one transaction, and a completed backtest of the demo partner.
#   4. Runs schemathesis over /api/bots/... and /partner/v1/... (deploy/local/fuzz.toml: fixed
#      seed, bounded examples, each family with its own key, the checks) and fails on any
#      server error, any response the document does not describe, any request the document
#      allows that is refused (except for the rules a JSON Schema cannot state: see
#      deploy/local/fuzz_hooks.py) and any request it forbids that is accepted.
#
# `POST /partner/v1/bots/backtest` is left out: every request it accepts queues real work.
# The operational routes (/health, /status, /docs, /openapi.json) are left out too: they take
# no input to vary.
#
# Schemathesis warns that three reads "mostly rejected generated data": their only query
# parameters are cursors, and a cursor is valid only when the API wrote it, so nearly every
# generated one is refused with 400 `<name> is invalid` (a rule no schema can state).
#
# The whole run is capped at FUZZ_BUDGET_SECS (300); FUZZ_MAX_EXAMPLES overrides the examples
# per operation. Reports of the last run (JUnit XML, and a cassette of every request and
# response) go to .local/fuzz/.
set -euo pipefail
cd "$(dirname "$0")/../.."

SCHEMATHESIS_VERSION=4.32.5
VENV=.local/fuzz-venv
REPORTS=.local/fuzz
GATEWAY=http://127.0.0.1:${APP_HTTP__PORT:-8080}
BUDGET_SECS=${FUZZ_BUDGET_SECS:-300}
started=$SECONDS

if [[ $("$VENV/bin/schemathesis" --version 2>/dev/null || true) != *"version $SCHEMATHESIS_VERSION" ]]; then
    echo "--- installing schemathesis $SCHEMATHESIS_VERSION into $VENV"
    rm -rf "$VENV"
    if ! python3 -m venv "$VENV"; then
        # Debian and Ubuntu ship venv's installer separately.
        echo "python3 cannot create a virtualenv: install python3-venv (apt-get install -y python3-venv)" >&2
        exit 1
    fi
    "$VENV/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
fi

gateway_up() {
    python3 -c "import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=5)" "$GATEWAY/status" 2>/dev/null
}
if ! gateway_up; then
    echo "--- the gateway at $GATEWAY does not answer: starting the stack"
    just up
fi

echo "--- fixtures: a trade and a completed backtest of the demo records"
fixtures=$(python3 deploy/local/fuzz_fixtures.py "$GATEWAY")
eval "$fixtures"
export FUZZ_BOT_SLUG FUZZ_BOT_KEY FUZZ_PARTNER_KEY FUZZ_TRADE_ID FUZZ_TRANSACTION_ID FUZZ_BACKTEST_ID
echo "trade $FUZZ_TRADE_ID, transaction $FUZZ_TRANSACTION_ID, backtest $FUZZ_BACKTEST_ID"

# The time the install, the stack and the fixtures took comes out of the budget.
left=$((BUDGET_SECS - (SECONDS - started)))
if ((left < 30)); then
    echo "only ${left}s of the ${BUDGET_SECS}s budget left for the run" >&2
    exit 1
fi

examples=()
[[ -n ${FUZZ_MAX_EXAMPLES:-} ]] && examples=(--max-examples "$FUZZ_MAX_EXAMPLES")

# Hypothesis (schemathesis's generator) keeps its tables under .local/, not in the repository.
export HYPOTHESIS_STORAGE_DIRECTORY=.local/fuzz-hypothesis
echo "--- schemathesis $SCHEMATHESIS_VERSION against $GATEWAY (at most ${left}s)"
# Only the last run's reports are kept (a cassette of every request takes tens of MB).
rm -rf "$REPORTS"
mkdir -p "$REPORTS"
status=0
timeout --signal=INT --kill-after=10 "$left" \
    "$VENV/bin/schemathesis" --config-file deploy/local/fuzz.toml run "$GATEWAY/openapi.json" \
    --url "$GATEWAY" \
    --include-path-regex '^/(api/bots|partner/v1)/' \
    --exclude-path /partner/v1/bots/backtest \
    --report junit,vcr --report-dir "$REPORTS" \
    --no-color "${examples[@]}" || status=$?
if ((status == 124)); then
    echo "just fuzz: the run went past its ${BUDGET_SECS}s budget" >&2
fi
echo "just fuzz: $((SECONDS - started))s in all (budget ${BUDGET_SECS}s), exit status $status"
exit "$status"
