#!/usr/bin/env bash
# `just seed`: creates a demo set with `trade-ledger admin` and prints it as one JSON document
# (a partner key, a user token, an external bot with its key, a broker account, tickers and a
# follow link). Keys are shown once, so the document is also kept in .local/seed.json.
# With --once (used by `just up`) it does nothing when .local/seed.json names a bot that
# still exists in the ledger database.
set -euo pipefail
cd "$(dirname "$0")/../.."

LEDGER=${CARGO_TARGET_DIR:-target}/debug/trade-ledger
OUT=.local/seed.json
export APP_CONFIG_DIR=services/trade-ledger/config APP_LOG__LEVEL=warn
DB_URL=${APP_DATABASE__URL:-postgres://tb:tb@127.0.0.1:5432/ledger}

field() { python3 -c "import json,sys; print(json.load(sys.stdin)['$1'])"; }
admin() { "$LEDGER" admin "$@"; }

if [[ ${1:-} == --once && -f $OUT ]]; then
    bot_id=$(field botId <"$OUT" 2>/dev/null || true)
    if [[ -n $bot_id ]] && [[ $(psql "$DB_URL" -tAc "SELECT count(*) FROM bots WHERE id = '$bot_id'" 2>/dev/null) == 1 ]]; then
        echo "demo data already seeded: keys are in $OUT"
        exit 0
    fi
fi

suffix=$(date +%s)
partner=$(admin create-partner --name "Demo Partner")
partner_id=$(field partnerId <<<"$partner")
user=$(admin create-user --partner "$partner_id" --email "demo-$suffix@example.com")
user_id=$(field userId <<<"$user")
account=$(admin create-broker-account --user "$user_id" --broker TRADIER --account-number "VA$suffix")
account_id=$(field brokerAccountId <<<"$account")
# The fetcher keeps the account's Tradier token (encrypted; the ledger never sees it). The
# local Tradier server accepts any token, so participations of this account are fetched.
echo "demo-tradier-token" | APP_CONFIG_DIR=services/outbox-broker-fetcher/config \
    "${CARGO_TARGET_DIR:-target}/debug/outbox-broker-fetcher" admin set-credentials --broker-account "$account_id" --environment sandbox >/dev/null

ticker() { # symbol asset-type exchange price-decimals amount-decimals
    local existing
    existing=$(psql "$DB_URL" -tAc "SELECT id FROM tickers WHERE symbol = '$1'" 2>/dev/null || true)
    if [[ -n $existing ]]; then echo "$existing"; return; fi
    admin create-ticker --symbol "$1" --asset-type "$2" --exchange "$3" --price-decimals "$4" \
        --amount-decimals "$5" | field tickerId
}
aapl=$(ticker AAPL stock NASDAQ 2 0)
# The SIM exchange and its markets come with the ledger's migrations.
catalogued() { psql "$DB_URL" -tAc "SELECT id FROM tickers WHERE symbol = '$1'"; }
btc=$(catalogued SIM_BTC_USDT_)
eth=$(catalogued SIM_ETH_USDT_)

slug=demo-bot
[[ $(psql "$DB_URL" -tAc "SELECT count(*) FROM bots WHERE slug = 'demo-bot'" 2>/dev/null) == 0 ]] || slug="demo-bot-$suffix"
bot=$(admin create-bot --slug "$slug" --name "Demo external bot" --owner "$user_id")
bot_slug=$(field slug <<<"$bot")
admin follow --bot "$bot_slug" --broker-account "$account_id" --ticker AAPL --quantity 10 >/dev/null

mkdir -p .local
python3 - "$partner" "$user" "$account" "$bot" "$aapl" "$btc" "$eth" >"$OUT" <<'PY'
import json, sys
partner, user, account, bot = (json.loads(a) for a in sys.argv[1:5])
aapl, btc, eth = sys.argv[5:8]
print(json.dumps({
    "partnerId": partner["partnerId"], "partnerApiKey": partner["apiKey"],
    "userId": user["userId"], "userToken": user["token"],
    "brokerAccountId": account["brokerAccountId"],
    "botId": bot["botId"], "botSlug": bot["slug"], "botApiKey": bot["apiKey"],
    "tickers": {"AAPL": aapl, "SIM_BTC_USDT_": btc, "SIM_ETH_USDT_": eth},
}, indent=2))
PY
cat "$OUT"
echo "demo keys saved in $OUT (shown once: keep them)" >&2
