-- Outbox and inbox (the table contract of crates/outbox): `backtest queued` is written in the
-- same transaction as the backtest row.
CREATE TABLE outbox (
    id               uuid PRIMARY KEY,
    seq              bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
    subject          text        NOT NULL,
    payload          jsonb       NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    published_at     timestamptz,
    locked_until     timestamptz,
    publish_attempts integer     NOT NULL DEFAULT 0,
    republish_count  integer     NOT NULL DEFAULT 0,
    last_error       text
);

CREATE INDEX outbox_unpublished ON outbox (seq) WHERE published_at IS NULL;

CREATE FUNCTION outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('outbox', '');
    RETURN NULL;
END;
$$;

CREATE TRIGGER outbox_notify AFTER INSERT ON outbox
    FOR EACH STATEMENT EXECUTE FUNCTION outbox_notify();

CREATE TABLE processed_messages (
    consumer     text        NOT NULL,
    event_id     uuid        NOT NULL,
    processed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer, event_id)
);

-- Historical market data: one row per candle, prices exactly as imported.
CREATE TABLE candles (
    market         text    NOT NULL,   -- SIM_BTC_USDT_
    timeframe_secs integer NOT NULL,   -- 60 for 1m, 3600 for 1h
    open_time      bigint  NOT NULL,   -- unix seconds
    open           numeric NOT NULL,
    high           numeric NOT NULL,
    low            numeric NOT NULL,
    close          numeric NOT NULL,
    volume         numeric NOT NULL,
    PRIMARY KEY (market, timeframe_secs, open_time)
);

-- One backtest: the request with its frozen settings, the job (lease), progress and results.
CREATE TABLE backtests (
    id               uuid        PRIMARY KEY,
    partner_id       uuid        NOT NULL,   -- the owner
    user_id          text,
    script_type      text        NOT NULL,
    exchange_id      text        NOT NULL,
    market           text        NOT NULL,
    timeframe_secs   integer     NOT NULL,
    settings         jsonb       NOT NULL,   -- {"type", "settings"} as validated
    start_unix       bigint      NOT NULL,
    end_unix         bigint      NOT NULL,
    state            text        NOT NULL DEFAULT 'loading_script'
        CHECK (state IN ('loading_script', 'loading_data', 'executing', 'completed', 'failed', 'cancelled')),
    progress         smallint    NOT NULL DEFAULT 0 CHECK (progress BETWEEN 0 AND 100),
    message          text        NOT NULL DEFAULT '',
    accepted_by      text        NOT NULL,   -- the instance that stored the request
    service_id       text,                   -- the worker that runs (ran) it
    lease_token      uuid,                   -- fences the writes of the worker holding the lease
    lease_until      timestamptz,
    attempts         integer     NOT NULL DEFAULT 0,
    created_at       timestamptz NOT NULL DEFAULT now(),
    execution_start  timestamptz,
    execution_end    timestamptz,
    results          jsonb,                  -- the results reply's data, written once
    equity           jsonb                   -- the sampled equity curve
);

-- Workers look for unfinished jobs only.
CREATE INDEX backtests_unfinished ON backtests (created_at)
    WHERE state IN ('loading_script', 'loading_data', 'executing');

CREATE TABLE backtest_logs (
    backtest_id uuid     NOT NULL REFERENCES backtests (id) ON DELETE CASCADE,
    line_number integer  NOT NULL,
    time        bigint   NOT NULL,
    level       smallint NOT NULL,
    message     text     NOT NULL,
    PRIMARY KEY (backtest_id, line_number)
);

CREATE TABLE backtest_positions (
    backtest_id uuid    NOT NULL REFERENCES backtests (id) ON DELETE CASCADE,
    position_no integer NOT NULL,
    body        jsonb   NOT NULL,   -- the reference's compact keys, with entry and exit orders
    PRIMARY KEY (backtest_id, position_no)
);
