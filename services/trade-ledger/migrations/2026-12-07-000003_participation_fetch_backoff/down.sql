ALTER TABLE participations DROP COLUMN fetch_request_count;
