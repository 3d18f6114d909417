ALTER TABLE participations DROP CONSTRAINT participations_fetch_error_code_when_failed;
ALTER TABLE participations ADD COLUMN fetch_error text;
UPDATE participations SET fetch_error = CASE fetch_error_code
        WHEN 'no_credentials' THEN 'No broker credentials are stored for this broker account'
        WHEN 'broker_refused' THEN 'The broker refused the stored credentials for this account'
        WHEN 'order_not_found' THEN 'The broker does not show this order'
        WHEN 'broker_unavailable' THEN 'The broker could not be reached; the fetch was given up'
        WHEN 'unstorable_answer' THEN 'The broker''s answer for this order could not be read'
        WHEN 'fetch_timed_out' THEN 'The order could not be fetched in time'
    END
WHERE fetch_error_code IS NOT NULL;
ALTER TABLE participations DROP COLUMN fetch_error_code;
