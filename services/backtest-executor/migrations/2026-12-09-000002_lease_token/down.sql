ALTER TABLE backtests ALTER COLUMN lease_token TYPE uuid USING NULL;
DROP SEQUENCE backtests_lease_tokens;
