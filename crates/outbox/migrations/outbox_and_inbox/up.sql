-- Outbox: events written in the same transaction as the change they report; the relay
-- publishes them to JetStream and marks them published only after the stream's ack.
-- The table contract is owned by crates/outbox (its diesel `table!` mirrors this).
CREATE TABLE outbox (
    id               uuid PRIMARY KEY,                           -- event id = Nats-Msg-Id
    seq              bigint GENERATED ALWAYS AS IDENTITY UNIQUE,  -- publish order
    subject          text        NOT NULL,
    payload          jsonb       NOT NULL,                       -- the whole Event envelope
    created_at       timestamptz NOT NULL DEFAULT now(),
    published_at     timestamptz,
    locked_until     timestamptz,                                -- a relay's claim lease
    publish_attempts integer     NOT NULL DEFAULT 0,
    republish_count  integer     NOT NULL DEFAULT 0,             -- recoveries with a fresh msg id
    last_error       text
);

-- The relay scans only what is left to publish.
CREATE INDEX outbox_unpublished ON outbox (seq) WHERE published_at IS NULL;

-- Wake the relay as soon as a transaction with new events commits (polling is the fallback).
CREATE FUNCTION outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('outbox', '');
    RETURN NULL;
END;
$$;

CREATE TRIGGER outbox_notify AFTER INSERT ON outbox
    FOR EACH STATEMENT EXECUTE FUNCTION outbox_notify();

-- Inbox: one row per event a consumer has applied, written in the same transaction as the
-- effect, so a redelivered event is recognised and acknowledged without a second effect.
CREATE TABLE processed_messages (
    consumer     text        NOT NULL,
    event_id     uuid        NOT NULL,
    processed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer, event_id)
);
