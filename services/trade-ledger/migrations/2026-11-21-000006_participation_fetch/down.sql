DROP INDEX participations_pending;
CREATE INDEX participations_pending ON participations (created_at) WHERE fetch_status = 'pending_fetch';
ALTER TABLE participations
    DROP COLUMN fetch_event_id,
    DROP COLUMN fetch_requested_at,
    DROP COLUMN fetch_revision;
