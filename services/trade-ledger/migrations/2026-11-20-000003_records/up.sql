-- The ledger's records: who owns what, and every trade of every bot.

CREATE TABLE partners (
    id         uuid PRIMARY KEY,
    name       text        NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE users (
    id         uuid PRIMARY KEY,
    partner_id uuid        REFERENCES partners (id),
    email      text        NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
-- One account per e-mail within a partner (and among users without a partner).
CREATE UNIQUE INDEX users_partner_email ON users (coalesce(partner_id, '00000000-0000-0000-0000-000000000000'), lower(email));

-- API keys and tokens of every kind. The secret is shown once; only its SHA-256 is kept.
-- `lookup_prefix` is the key's public first part, so a key is found without scanning hashes.
CREATE TABLE api_keys (
    id            uuid PRIMARY KEY,
    owner_kind    text        NOT NULL CHECK (owner_kind IN ('bot', 'partner', 'user')),
    owner_id      uuid        NOT NULL,
    lookup_prefix text        NOT NULL UNIQUE,
    secret_sha256 bytea       NOT NULL CHECK (length(secret_sha256) = 32),
    created_at    timestamptz NOT NULL DEFAULT now(),
    revoked_at    timestamptz
);
CREATE INDEX api_keys_owner ON api_keys (owner_kind, owner_id);

CREATE TABLE broker_accounts (
    id             uuid PRIMARY KEY,
    user_id        uuid        NOT NULL REFERENCES users (id),
    broker         text        NOT NULL,
    account_number text        NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    UNIQUE (broker, account_number)
);
CREATE INDEX broker_accounts_user ON broker_accounts (user_id);

-- The market catalogue.
CREATE TABLE tickers (
    id              uuid PRIMARY KEY,
    symbol          text        NOT NULL UNIQUE,
    asset_type      text        NOT NULL,
    exchange        text,
    price_decimals  smallint    NOT NULL DEFAULT 2 CHECK (price_decimals BETWEEN 0 AND 18),
    amount_decimals smallint    NOT NULL DEFAULT 8 CHECK (amount_decimals BETWEEN 0 AND 18),
    min_amount      numeric     CHECK (min_amount >= 0),
    created_at      timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE bots (
    id            uuid PRIMARY KEY,
    slug          text        NOT NULL UNIQUE CHECK (slug ~ '^[a-zA-Z0-9_-]+$'),
    name          text        NOT NULL,
    kind          text        NOT NULL DEFAULT 'external'
                              CHECK (kind IN ('external', 'grid', 'dca', 'webhook', 'strategy')),
    owner_user_id uuid        REFERENCES users (id),
    created_at    timestamptz NOT NULL DEFAULT now()
);

-- A user's broker account follows a bot for a ticker.
CREATE TABLE bot_followers (
    bot_id            uuid        NOT NULL REFERENCES bots (id),
    broker_account_id uuid        NOT NULL REFERENCES broker_accounts (id),
    ticker_id         uuid        NOT NULL REFERENCES tickers (id),
    quantity          numeric     NOT NULL DEFAULT 1 CHECK (quantity > 0),
    status            text        NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'paused')),
    created_at        timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (bot_id, broker_account_id, ticker_id)
);

CREATE TABLE bot_trades (
    id             uuid PRIMARY KEY,
    bot_id         uuid        NOT NULL REFERENCES bots (id),
    symbol         text        NOT NULL,
    trade_type     text        NOT NULL CHECK (trade_type IN ('long', 'short')),
    status         text        NOT NULL CHECK (status IN ('pending', 'open', 'closed', 'cancelled', 'error')),
    signal_at      timestamptz NOT NULL,
    opened_at      timestamptz,
    closed_at      timestamptz,
    net_pnl        numeric,
    error_message  text,
    error_at       timestamptz,
    metadata       jsonb       NOT NULL DEFAULT '{}',
    created_at     timestamptz NOT NULL DEFAULT now(),
    last_update_at timestamptz NOT NULL DEFAULT now()
);
-- Listing a bot's trades newest first, with cursor pagination on (created_at, id).
CREATE INDEX bot_trades_bot_newest ON bot_trades (bot_id, created_at DESC, id DESC);

-- Every field of reference 001. Prices and quantities are exact decimals.
CREATE TABLE transactions (
    id                     uuid PRIMARY KEY,
    bot_trade_id           uuid        NOT NULL REFERENCES bot_trades (id),
    transaction_group      text        NOT NULL CHECK (transaction_group IN ('entry', 'exit')),
    exit_type              text,
    trim_level             numeric,
    symbol                 text        NOT NULL,
    asset_type             text        NOT NULL,
    side                   text        NOT NULL,
    order_type             text        NOT NULL,
    quantity               numeric     NOT NULL,
    transaction_date       timestamptz NOT NULL,
    stop_price             numeric,
    price                  numeric,
    option_type            text,
    strike_price           numeric,
    expiration_date        text,
    status                 text        NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'filled', 'cancelled')),
    filled_at              timestamptz,
    filled_price           numeric,
    filled_quantity        numeric,
    avg_fill_price         numeric,
    broker                 text,
    broker_account_number  text,
    broker_order_id        text,
    broker_parent_order_id text,
    notes                  text,
    metadata               jsonb       NOT NULL DEFAULT '{}',
    created_at             timestamptz NOT NULL DEFAULT now(),
    updated_at             timestamptz NOT NULL DEFAULT now(),
    CHECK (transaction_group = 'entry' OR exit_type IS NOT NULL)
);
CREATE INDEX transactions_trade ON transactions (bot_trade_id, created_at);

-- Reference 000, plus what the broker fetch fills in.
CREATE TABLE participations (
    id                  uuid PRIMARY KEY,
    bot_trade_id        uuid        NOT NULL REFERENCES bot_trades (id),
    user_id             uuid        NOT NULL REFERENCES users (id),
    broker_account_id   uuid        NOT NULL REFERENCES broker_accounts (id),
    broker_order_id     text        NOT NULL CHECK (broker_order_id <> ''),
    child_order_ids     text[]      NOT NULL DEFAULT '{}',
    units               numeric     NOT NULL DEFAULT 1,
    fetch_status        text        NOT NULL DEFAULT 'pending_fetch'
                                    CHECK (fetch_status IN ('pending_fetch', 'fetched', 'fetch_failed')),
    broker_order_status text        CHECK (broker_order_status IN
                                    ('open', 'partially_filled', 'filled', 'cancelled', 'rejected', 'expired')),
    filled_quantity     numeric,
    avg_fill_price      numeric,
    child_orders        jsonb,
    fetched_at          timestamptz,
    fetch_error         text,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    -- The natural key: repeating it returns the existing participation.
    UNIQUE (bot_trade_id, user_id, broker_order_id)
);
CREATE INDEX participations_pending ON participations (created_at) WHERE fetch_status = 'pending_fetch';

CREATE TABLE user_bot_states (
    id                uuid PRIMARY KEY,
    bot_id            uuid        NOT NULL REFERENCES bots (id),
    broker_account_id uuid        NOT NULL REFERENCES broker_accounts (id),
    ticker_id         uuid        NOT NULL REFERENCES tickers (id),
    state             jsonb       NOT NULL,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    UNIQUE (bot_id, broker_account_id, ticker_id)
);
