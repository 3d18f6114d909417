"""Records `just fuzz` points its path parameters at, printed as shell assignments.

Reads the demo keys from .local/seed.json, creates a trade with one filled entry through the
Bot API (so `tradeId` and `transactionId` are real rows of the demo bot) and starts a small
backtest through the Partner API, waiting until it completes (so the results, logs, positions
and equity routes answer 200 rather than 409). The backtest goes with a fixed Idempotency-Key:
a repeat within the key's 24 hours replays the first reply, so repeated runs reuse one backtest
instead of queueing new work.

Usage: python3 deploy/local/fuzz_fixtures.py <gateway base URL>
"""

import json
import sys
import time
import urllib.error
import urllib.request

SEED = ".local/seed.json"

# One day of 1-minute candles of the SIM market `just up` imports: a few seconds of work.
BACKTEST = {
    "type": "spot_grid",
    "exchangeId": "SIM",
    "startUnix": 1689677460,
    "endUnix": 1689763860,
    "settings": {
        "symbol": "SIM_BTC_USDT_",
        "lowerLimit": 25000,
        "upperLimit": 31000,
        "gridCount": 10,
        "investmentAsset": "Quote",
        "investmentAmount": 1000,
    },
}

TRADE = {
    "symbol": "AAPL",
    "tradeType": "long",
    "signalAt": "2024-01-15T10:30:00Z",
    "transactions": [
        {
            "transactionGroup": "entry",
            "symbol": "AAPL",
            "assetType": "stock",
            "side": "buy",
            "type": "market",
            "quantity": 10,
            "transactionDate": "2024-01-15T10:30:00Z",
            "status": "filled",
            "filledAt": "2024-01-15T10:30:05Z",
        }
    ],
}


def call(method, url, key, body=None, headers=None):
    """Sends a JSON request; returns the decoded reply or stops with the status and body."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header("x-api-key", key)
    request.add_header("content-type", "application/json")
    for name, value in (headers or {}).items():
        request.add_header(name, value)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.load(response)
    except urllib.error.HTTPError as error:
        sys.exit(f"fuzz fixtures: {method} {url} answered {error.code}: {error.read().decode(errors='replace')}")


def main():
    gateway = sys.argv[1].rstrip("/")
    try:
        with open(SEED) as file:
            seed = json.load(file)
    except (OSError, ValueError) as error:
        sys.exit(f"fuzz fixtures: cannot read the demo keys in {SEED} ({error}): run `just up` (or `just seed`)")
    slug, bot_key, partner_key = seed["botSlug"], seed["botApiKey"], seed["partnerApiKey"]

    trade = call("POST", f"{gateway}/api/bots/{slug}/trades", bot_key, TRADE)["trade"]

    started = call(
        "POST",
        f"{gateway}/partner/v1/bots/backtest",
        partner_key,
        BACKTEST,
        {"Idempotency-Key": "just-fuzz-backtest-v1"},
    )
    backtest_id = started["data"]["backtestId"]
    deadline = time.monotonic() + 60
    while True:
        status = call("GET", f"{gateway}/partner/v1/bots/backtest/{backtest_id}/status", partner_key)["data"]
        if status["state"] == "completed":
            break
        if status["state"] in ("failed", "cancelled") or time.monotonic() > deadline:
            sys.exit(f"fuzz fixtures: backtest {backtest_id} did not complete: {status}")
        time.sleep(0.5)

    values = {
        "FUZZ_BOT_SLUG": slug,
        "FUZZ_BOT_KEY": bot_key,
        "FUZZ_PARTNER_KEY": partner_key,
        "FUZZ_TRADE_ID": trade["id"],
        "FUZZ_TRANSACTION_ID": trade["transactions"][0]["id"],
        "FUZZ_BACKTEST_ID": backtest_id,
    }
    for name, value in values.items():
        # Ids, slugs and keys hold no shell metacharacters; quoting keeps that an assumption
        # the shell does not rely on.
        print(f"{name}='{value}'")


if __name__ == "__main__":
    main()
