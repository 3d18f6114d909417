DROP INDEX outbox_dead;
DROP INDEX outbox_unpublished;
ALTER TABLE outbox DROP COLUMN dead_at, DROP COLUMN attempts;
CREATE INDEX outbox_unpublished ON outbox (seq) WHERE published_at IS NULL;
