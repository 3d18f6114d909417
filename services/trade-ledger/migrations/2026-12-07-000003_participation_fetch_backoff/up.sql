-- The fetch sweep asks again with a backoff per participation (fetch_sweep.after_secs,
-- doubling per request up to fetch_sweep.max_backoff_secs) and gives up after
-- fetch_sweep.give_up_after_secs: `fetch_request_count` counts the requests made again, so the
-- next wait follows from it and from `fetch_requested_at` (the last request).
ALTER TABLE participations ADD COLUMN fetch_request_count integer NOT NULL DEFAULT 0;
