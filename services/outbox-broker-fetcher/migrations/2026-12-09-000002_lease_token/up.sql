-- A fetch job's lease is fenced by a token (crates/lease) instead of by the lease's own
-- expiry value: each claim (or insert of a job already leased) takes the next value of
-- `fetch_jobs_lease_tokens`, and every write that ends or reschedules the attempt matches
-- it. Null while no worker holds the job. A job leased when this runs has no token: its
-- worker's writes no longer match, and the job is taken over once `locked_until` passes.
CREATE SEQUENCE fetch_jobs_lease_tokens;
ALTER TABLE fetch_jobs ADD COLUMN lease_token bigint;
