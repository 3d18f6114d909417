-- A stored reply is replayed byte for byte: keep it as the text that was sent (jsonb would
-- reorder keys and normalise numbers).
ALTER TABLE idempotency_records ALTER COLUMN response_body TYPE text USING response_body::text;
