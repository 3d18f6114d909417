#!/usr/bin/env bash
# `just candles` (and `just up`): imports the repository's market data (deploy/local/marketdata/)
# into the backtest-executor's database as the SIM markets. Idempotent: each file replaces the
# candles of its own range, so running it again finds every candle stored (`"inserted": 0`,
# `"chunksWritten": 0`) and writes nothing.
set -euo pipefail
cd "$(dirname "$0")/../.."

EXECUTOR=target/debug/backtest-executor
export APP_CONFIG_DIR=services/backtest-executor/config APP_LOG__LEVEL=warn

import() { # market timeframe file
    "$EXECUTOR" import-candles --market "$1" --timeframe "$2" --file "deploy/local/marketdata/$3"
}
import SIM_BTC_USDT_ 1m BTC_USDT-1m.csv
import SIM_BTC_USDT_ 5m BTC_USDT-5m.csv
import SIM_BTC_USDT_ 1h BTC_USDT-1h.csv
import SIM_ETH_USDT_ 5m ETH_USDT-5m.csv
