-- One row per thing the runner trades: a hosted bot now (kind 'hosted', one row per bot, for
-- its whole life), a strategy session later (kind 'session', one row per session). The row
-- holds what the ledger said the run is (definition and desired state, at a revision) and,
-- as later increments land, what the runner has made of it: the state, the lease of the
-- replica that runs it, the engine checkpoint, the next log line, the last quote seen.
--
-- The definition is a copy: the ledger owns it. The consumer `live_hosted_bots` and the
-- reconciliation against the ledger's revisions keep it current, and both write a hosted
-- bot's row only when their revision is newer than the stored one, so events that arrive late,
-- twice or out of order never roll it back.
CREATE TABLE runs (
    id                uuid        PRIMARY KEY,
    kind              text        NOT NULL CHECK (kind IN ('hosted', 'session')),
    bot_id            uuid        NOT NULL,              -- the ledger's bot (a session's strategy bot)
    session_id        uuid,                              -- null for a hosted bot
    partner_id        uuid,                              -- a hosted bot's partner
    user_id           uuid        NOT NULL,              -- the owner
    revision          bigint      NOT NULL,              -- the ledger's revision of the definition
    desired           text        NOT NULL CHECK (desired IN ('running', 'stopped', 'deleted')),
    -- What the runner has made of `desired`: nothing runs yet, so every run is `stopped`; the
    -- increments that bring the engine and its leases drive it (and constrain its values).
    state             text        NOT NULL DEFAULT 'stopped',
    script_type       text        NOT NULL,              -- spot_grid, ...
    settings          jsonb       NOT NULL,              -- canonical, defaults filled in, numbers exact
    market            jsonb       NOT NULL,              -- the engine's MarketSpec fields
    exchange_id       text        NOT NULL,
    -- The lease (crates/lease): the replica holding the run, the token of its claim (the next
    -- value of `runs_lease_tokens`; every write of the holder names it) and when it runs out.
    -- Null while nobody holds the run.
    lease_owner       text,
    lease_token       bigint,
    lease_until       timestamptz,
    -- The engine's state after the last committed input, in the engine's checkpoint format
    -- (its version in `checkpoint_format`): what a replica restores the run from.
    checkpoint        bytea,
    checkpoint_format integer,
    checkpoint_at     timestamptz,
    next_log_line     bigint      NOT NULL DEFAULT 0,    -- log lines are numbered without gaps
    last_quote_ms     bigint,                            -- the time of the last quote the engine saw
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    -- A session row names its session, a hosted bot's does not; a hosted bot has a partner.
    CONSTRAINT runs_shape CHECK (
        (kind = 'hosted' AND session_id IS NULL AND partner_id IS NOT NULL)
        OR (kind = 'session' AND session_id IS NOT NULL)
    )
);

-- One run per hosted bot: the conflict target of the upsert that applies a newer revision.
CREATE UNIQUE INDEX runs_hosted_bot ON runs (bot_id) WHERE kind = 'hosted';

-- Lease tokens grow with each claim (crates/lease), so a replica whose lease ran out and whose
-- run was claimed again writes nothing more.
CREATE SEQUENCE runs_lease_tokens;
