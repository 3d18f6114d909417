-- What a run's engine has done, written with its checkpoint in one transaction fenced by the
-- run's lease token (a replica whose lease was taken over writes nothing more): the orders
-- and positions as of their last event, every fill, and the bot's log.

-- What the runner has made of `desired`: a running engine, a stopped one (orders cancelled,
-- wallet and positions kept), or a deleted bot whose rows were purged (the row stays, so a
-- late event of an older revision cannot bring the bot back).
ALTER TABLE runs ADD CONSTRAINT runs_state CHECK (state IN ('running', 'stopped', 'deleted'));

-- A revision the runner could not run (its engine refused the market or the settings): not
-- claimed again until the ledger sends a newer revision.
ALTER TABLE runs ADD COLUMN failed_revision bigint;

-- The revision whose settings the checkpointed engine was given (applied, or refused and
-- logged): a restore applies only a newer one, so nothing is logged twice.
ALTER TABLE runs ADD COLUMN applied_revision bigint;

-- The claim looks only at runs that need an owner: a running bot, or one whose stop or delete
-- is not finished yet.
CREATE INDEX runs_needing_an_owner ON runs (id) WHERE desired = 'running' OR state <> desired;

-- Every order the engine placed, as of its last event (the engine's order object). Open
-- orders are read oldest first.
CREATE TABLE run_orders (
    run_id      uuid    NOT NULL REFERENCES runs (id),
    order_id    bigint  NOT NULL,                -- the engine's id: from 0, never reused
    status      text    NOT NULL CHECK (status IN ('OPEN', 'FILLED', 'CANCELLED')),
    placed_at   bigint  NOT NULL,                -- unix seconds
    body        jsonb   NOT NULL,
    PRIMARY KEY (run_id, order_id)
);
CREATE INDEX run_orders_open ON run_orders (run_id, order_id) WHERE status = 'OPEN';

-- Every position the engine opened, as of its last event (the engine's position object).
-- Open ones are read oldest first; closed ones newest first, paged by (close time, number);
-- one is found by the id the API shows (`public_id`, 32 hex).
CREATE TABLE run_positions (
    run_id      uuid    NOT NULL REFERENCES runs (id),
    position_id bigint  NOT NULL,
    public_id   text    NOT NULL,
    status      text    NOT NULL CHECK (status IN ('OPEN', 'CLOSED')),
    close_time  bigint,                          -- unix seconds, once closed
    body        jsonb   NOT NULL,
    PRIMARY KEY (run_id, position_id),
    CHECK ((status = 'CLOSED') = (close_time IS NOT NULL))
);
CREATE UNIQUE INDEX run_positions_public_id ON run_positions (run_id, public_id);
CREATE INDEX run_positions_closed ON run_positions (run_id, close_time DESC, position_id DESC)
    WHERE status = 'CLOSED';

-- Every fill, by the engine's event sequence number.
CREATE TABLE run_fills (
    run_id      uuid    NOT NULL REFERENCES runs (id),
    seq         bigint  NOT NULL,
    order_id    bigint  NOT NULL,
    position_id bigint  NOT NULL,
    body        jsonb   NOT NULL,
    PRIMARY KEY (run_id, seq)
);

-- The bot's log: the engine's lines and the runner's own, numbered from 1 without gaps
-- (`runs.next_log_line` is the count written so far).
CREATE TABLE run_log_lines (
    run_id      uuid    NOT NULL REFERENCES runs (id),
    line_number bigint  NOT NULL,
    time        bigint  NOT NULL,                -- unix seconds
    severity    text    NOT NULL CHECK (severity IN ('info', 'trade', 'warning', 'error', 'custom')),
    message     text    NOT NULL,
    PRIMARY KEY (run_id, line_number)
);
