-- The pruner deletes published outbox rows and processed messages once the retention has
-- passed (database.retention), oldest first and a batch at a time: these indexes let each batch
-- find its rows without scanning the table.
CREATE INDEX outbox_published ON outbox (published_at) WHERE published_at IS NOT NULL;
CREATE INDEX processed_messages_processed_at ON processed_messages (processed_at);
