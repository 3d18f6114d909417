DROP INDEX processed_messages_processed_at;
DROP INDEX outbox_published;
