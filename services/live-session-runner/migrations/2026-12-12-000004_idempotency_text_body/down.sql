ALTER TABLE idempotency_records ALTER COLUMN response_body TYPE jsonb USING response_body::jsonb;
