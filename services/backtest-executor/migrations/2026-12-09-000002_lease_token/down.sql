ALTER TABLE backtests DROP COLUMN claim_token;
DROP SEQUENCE backtests_lease_tokens;
