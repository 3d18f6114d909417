-- The market catalogue a partner trades on, and partner users created through the Partner API
-- (docs/api/partner.md#users-and-markets).

-- Exchanges. `calendar` is when its markets trade (crates/domain/src/calendar.rs):
-- {"kind":"always_open"} or {"kind":"weekly","tz":...,"open":"09:30","close":"16:00","days":[1..5]}.
-- Only enabled exchanges and their markets are listed; `has_adapter` says whether bots can
-- trade on it (a user may still be created on one without).
CREATE TABLE exchanges (
    id          text PRIMARY KEY CHECK (id ~ '^[A-Za-z0-9_-]{1,64}$'),
    name        text        NOT NULL CHECK (name <> ''),
    is_spot     boolean     NOT NULL DEFAULT true,
    is_leverage boolean     NOT NULL DEFAULT false,
    enabled     boolean     NOT NULL DEFAULT true,
    has_adapter boolean     NOT NULL DEFAULT false,
    calendar    jsonb       NOT NULL DEFAULT '{"kind": "always_open"}',
    created_at  timestamptz NOT NULL DEFAULT now()
);

-- What `GET /markets` shows of a ticker. Symbols of the form <EXCHANGE>_<BASE>_<QUOTE>_<CONTRACT>
-- carry their currencies and contract (all that follows the third '_'); any other symbol (a
-- stock such as AAPL) is its own base, quoted in USD. `domain::catalogue::currencies` reads new
-- tickers the same way.
ALTER TABLE tickers
    ADD COLUMN base_currency  text,
    ADD COLUMN quote_currency text,
    ADD COLUMN contract       text    NOT NULL DEFAULT '',
    ADD COLUMN min_volume     numeric NOT NULL DEFAULT 0 CHECK (min_volume >= 0),
    ADD COLUMN is_spot        boolean NOT NULL DEFAULT true,
    ADD COLUMN is_leverage    boolean NOT NULL DEFAULT false;
UPDATE tickers SET base_currency  = split_part(symbol, '_', 2),
                   quote_currency = split_part(symbol, '_', 3),
                   contract       = substring(symbol FROM '^[^_]+_[^_]+_[^_]+_(.*)$')
 WHERE symbol ~ '^[^_]+_[^_]+_[^_]+_';
UPDATE tickers SET base_currency = symbol, quote_currency = 'USD' WHERE base_currency IS NULL;
ALTER TABLE tickers
    ALTER COLUMN base_currency SET NOT NULL,
    ALTER COLUMN quote_currency SET NOT NULL;
CREATE INDEX tickers_exchange ON tickers (exchange, symbol);

-- The paper exchange and its two markets, so every database (fresh test databases too) has
-- them without `just seed`. Local databases already hold the tickers the seed made: they are
-- brought to the catalogue's values. The values equal the engine's `MarketSpec::sim_btc_usdt()`
-- and `sim_eth_usdt()` (a ledger test checks it).
INSERT INTO exchanges (id, name, is_spot, is_leverage, enabled, has_adapter, calendar)
VALUES ('SIM', 'Simulated exchange', true, true, true, true, '{"kind": "always_open"}')
ON CONFLICT (id) DO NOTHING;
INSERT INTO tickers (id, symbol, asset_type, exchange, price_decimals, amount_decimals, min_amount,
                     base_currency, quote_currency, contract, is_spot, is_leverage)
VALUES (gen_random_uuid(), 'SIM_BTC_USDT_', 'crypto', 'SIM', 2, 5, 0.00001, 'BTC', 'USDT', '', true, true),
       (gen_random_uuid(), 'SIM_ETH_USDT_', 'crypto', 'SIM', 2, 4, 0.0001, 'ETH', 'USDT', '', true, true)
ON CONFLICT (symbol) DO UPDATE
   SET asset_type = EXCLUDED.asset_type, exchange = EXCLUDED.exchange,
       price_decimals = EXCLUDED.price_decimals, amount_decimals = EXCLUDED.amount_decimals,
       min_amount = EXCLUDED.min_amount, base_currency = EXCLUDED.base_currency,
       quote_currency = EXCLUDED.quote_currency, contract = EXCLUDED.contract,
       is_spot = EXCLUDED.is_spot, is_leverage = EXCLUDED.is_leverage;

-- Partner users. A user made through the Partner API has no e-mail (the index on lower(email)
-- stays unique where there is one), the exchange it was created on, the partner's own id of
-- it on that exchange, a count of the bots it ever started, and a deletion time: a deleted
-- user is kept for the ledger's history but is not found by any partner request.
ALTER TABLE users
    ALTER COLUMN email DROP NOT NULL,
    ADD COLUMN exchange_id      text,
    ADD COLUMN exchange_user_id text CHECK (exchange_user_id <> ''),
    ADD COLUMN bots_started     integer NOT NULL DEFAULT 0 CHECK (bots_started >= 0),
    ADD COLUMN deleted_at       timestamptz;
-- `users/list`: a partner's users newest first, paged on (created_at, id).
CREATE INDEX users_partner_newest ON users (partner_id, created_at DESC, id DESC) WHERE deleted_at IS NULL;

-- A paper account (`publicKey: "sim"`) trades against the quote feed; nothing is stored in the
-- fetcher for it.
ALTER TABLE broker_accounts ADD COLUMN paper boolean NOT NULL DEFAULT false;
