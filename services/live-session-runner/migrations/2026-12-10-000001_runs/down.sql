DROP SEQUENCE runs_lease_tokens;
DROP TABLE runs;
