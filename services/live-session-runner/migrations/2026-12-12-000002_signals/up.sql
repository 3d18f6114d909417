-- A partner's signals to its webhook bots, and what each bot did with each one (docs/live.md,
-- "Signals"). A signal is stored once per (partner, token, timestamp, action): a repeat finds
-- it here and changes nothing. Its receipts commit with it, one per bot, `pending` until the
-- bot's owner delivers it at the next quote, in the same transaction as the order it places.
CREATE TABLE signals (
    id              uuid PRIMARY KEY,
    partner_id      uuid        NOT NULL,
    token           text        NOT NULL,
    timestamp       bigint      NOT NULL,                 -- the partner's, Unix seconds
    action          text        NOT NULL,
    amount          numeric     NOT NULL CHECK (amount > 0),
    price           numeric              CHECK (price > 0),
    investment_type text        NOT NULL CHECK (investment_type IN ('base', 'quote')),
    max_lag         bigint               CHECK (max_lag >= 1),
    metadata        text        NOT NULL,                 -- the partner's JSON object, as sent
    received_at     timestamptz NOT NULL DEFAULT clock_timestamp(),
    UNIQUE (partner_id, token, timestamp, action)
);

-- `signals/get`: the token's last signal.
CREATE INDEX signals_latest ON signals (partner_id, token, received_at DESC, id DESC);

CREATE TABLE signal_receipts (
    -- The number the bot's engine is given the signal with, and echoes in its outcome.
    delivery_id  bigint      GENERATED ALWAYS AS IDENTITY UNIQUE,
    signal_id    uuid        NOT NULL REFERENCES signals (id) ON DELETE CASCADE,
    bot_id       uuid        NOT NULL,
    bot_kind     text        NOT NULL CHECK (bot_kind IN ('hosted', 'strategy')),
    -- The ledger's revision of the bot when the signal came: a receipt of a bot the runner
    -- holds stopped is given up only once the runner has heard of it (a start may be coming).
    bot_revision bigint      NOT NULL,
    status       text        NOT NULL CHECK (status IN ('pending', 'delivered', 'skipped')),
    reason       text,
    order_id     bigint,                                  -- the engine's number of the order placed
    delivered_at timestamptz,
    PRIMARY KEY (signal_id, bot_id),
    CHECK ((status = 'pending') = (delivered_at IS NULL))
);

-- What an owner delivers: the pending receipts of the bots it holds.
CREATE INDEX signal_receipts_pending ON signal_receipts (bot_id) WHERE status = 'pending';
