ALTER TABLE fetch_jobs DROP COLUMN lease_token;
DROP SEQUENCE fetch_jobs_lease_tokens;
