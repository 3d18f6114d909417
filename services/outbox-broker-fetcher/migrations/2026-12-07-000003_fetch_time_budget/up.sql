-- Transport errors and rate limits never count toward a job's failures, so a broker that
-- never answers would keep a job retrying forever. `retrying_since` is when the job's current
-- run of attempts began (its creation, or the admin retry that put it back in the queue):
-- once `fetch.give_up_after` has passed since then, such a failure parks the job with
-- `fetch_timed_out`.
ALTER TABLE fetch_jobs ADD COLUMN retrying_since timestamptz NOT NULL DEFAULT now();
UPDATE fetch_jobs SET retrying_since = created_at;
