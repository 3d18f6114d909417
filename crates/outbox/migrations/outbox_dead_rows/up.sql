-- The relay gives up on a row after `outbox.max_attempts` claims instead of retrying it
-- forever: `attempts` counts the claims since the row was last published (a deliberate
-- re-publish starts again from 0) and `dead_at` marks a row it parked. `admin outbox-dead`
-- lists them, `admin outbox-retry` queues them again.
ALTER TABLE outbox
    ADD COLUMN attempts integer NOT NULL DEFAULT 0,
    ADD COLUMN dead_at  timestamptz;

-- The relay scans only what it may still publish; dead rows are looked up on their own.
DROP INDEX outbox_unpublished;
CREATE INDEX outbox_unpublished ON outbox (seq) WHERE published_at IS NULL AND dead_at IS NULL;
CREATE INDEX outbox_dead ON outbox (seq) WHERE dead_at IS NOT NULL;
