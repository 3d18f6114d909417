-- The order-fetch path (issue 4): which outbox event asks the fetcher for a participation's
-- orders (so a sweep can publish it again), when it was last asked, and the revision of the
-- fetch outcome applied so far (outcomes of one job only move forward).
ALTER TABLE participations
    ADD COLUMN fetch_event_id     uuid,
    ADD COLUMN fetch_requested_at timestamptz NOT NULL DEFAULT now(),
    ADD COLUMN fetch_revision     integer     NOT NULL DEFAULT 0;

UPDATE participations SET fetch_requested_at = created_at;

-- The sweep scans only what is still waiting, oldest request first.
DROP INDEX participations_pending;
CREATE INDEX participations_pending ON participations (fetch_requested_at) WHERE fetch_status = 'pending_fetch';
