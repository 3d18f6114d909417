ALTER TABLE fetch_jobs DROP COLUMN retrying_since;
