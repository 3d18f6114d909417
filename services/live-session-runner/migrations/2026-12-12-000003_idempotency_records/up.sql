-- Idempotency-Key records (docs/api/bot.md#idempotency): scoped to the credential that made
-- the request, kept 24 h. A repeat with the same body replays the stored response; another
-- body is refused.
CREATE TABLE idempotency_records (
    scope           text        NOT NULL,      -- the credential (bot, partner or user id)
    key             text        NOT NULL,      -- the client's Idempotency-Key
    request_hash    bytea       NOT NULL,      -- SHA-256 of method, path and body
    response_status smallint,                  -- NULL while the first request still runs
    response_body   jsonb,
    created_at      timestamptz NOT NULL DEFAULT now(),
    expires_at      timestamptz NOT NULL DEFAULT now() + interval '24 hours',
    PRIMARY KEY (scope, key)
);

CREATE INDEX idempotency_records_expiry ON idempotency_records (expires_at);
