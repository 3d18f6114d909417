-- A replayed response must be the first one byte for byte; jsonb reorders keys and
-- reformats numbers, so the body is kept as the text that was sent.
ALTER TABLE idempotency_records ALTER COLUMN response_body TYPE text USING response_body::text;
