-- Broker credentials, encrypted at rest (XChaCha20-Poly1305; the key comes from settings, the
-- account id is the associated data, so a ciphertext copied to another row does not open).
CREATE TABLE broker_credentials (
    broker_account_id uuid PRIMARY KEY,
    environment       text        NOT NULL CHECK (environment IN ('live', 'sandbox')),
    nonce             bytea       NOT NULL CHECK (length(nonce) = 24),
    ciphertext        bytea       NOT NULL,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now()
);

-- One job per participation: the request as the ledger sent it, and where its fetch stands.
-- `pending` jobs are claimed by lease; `fetched` and `dead_letter` are outcomes, each
-- published through the outbox (its event id kept, so it can be published again).
CREATE TABLE fetch_jobs (
    participation_id      uuid PRIMARY KEY,
    request_event_id      uuid        NOT NULL,
    broker                text        NOT NULL,
    broker_account_id     uuid        NOT NULL,
    broker_account_number text        NOT NULL,
    broker_order_id       text        NOT NULL,
    child_order_ids       text[]      NOT NULL,
    status                text        NOT NULL DEFAULT 'pending'
                                      CHECK (status IN ('pending', 'fetched', 'dead_letter')),
    attempts              integer     NOT NULL DEFAULT 0,  -- broker calls made
    failures              integer     NOT NULL DEFAULT 0,  -- answers that count toward the limit
    next_attempt_at       timestamptz NOT NULL DEFAULT now(),
    locked_until          timestamptz,
    last_error            text,
    revision              integer     NOT NULL DEFAULT 0,  -- grows with every outcome
    outcome_event_id      uuid,
    requested_at          timestamptz NOT NULL,            -- when the ledger committed it
    created_at            timestamptz NOT NULL DEFAULT now(),
    updated_at            timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX fetch_jobs_due ON fetch_jobs (next_attempt_at) WHERE status = 'pending';
CREATE INDEX fetch_jobs_dead ON fetch_jobs (updated_at) WHERE status = 'dead_letter';

-- What the broker answered for each order of a participation (the latest fetch).
CREATE TABLE order_snapshots (
    participation_id uuid        NOT NULL REFERENCES fetch_jobs (participation_id),
    order_id         text        NOT NULL,
    is_parent        boolean     NOT NULL,
    status           text        NOT NULL,
    broker_status    text        NOT NULL,
    quantity         numeric     NOT NULL,
    filled_quantity  numeric     NOT NULL,
    avg_fill_price   numeric,
    raw              jsonb       NOT NULL,
    fetched_at       timestamptz NOT NULL,
    PRIMARY KEY (participation_id, order_id)
);
