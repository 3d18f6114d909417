-- A participation's fetch error is one of six fixed codes (clients see the code's fixed
-- message). The free text it replaces was the fetcher's own error, which could carry account
-- ids and broker answers to clients.
ALTER TABLE participations
    ADD COLUMN fetch_error_code text
        CHECK (fetch_error_code IN ('no_credentials', 'broker_refused', 'order_not_found',
                                    'broker_unavailable', 'unstorable_answer', 'fetch_timed_out'));

-- The old texts, read as the fetcher wrote them; whatever is not recognised was the broker
-- failing until the job gave up.
UPDATE participations SET fetch_error_code = CASE
        WHEN fetch_error ILIKE 'no credentials%' THEN 'no_credentials'
        WHEN fetch_error ILIKE '%broker refused%' THEN 'broker_refused'
        WHEN fetch_error ILIKE '%order not found%' THEN 'order_not_found'
        WHEN fetch_error ILIKE '%could not be stored%' THEN 'unstorable_answer'
        WHEN fetch_error ILIKE '%did not answer within%' THEN 'fetch_timed_out'
        ELSE 'broker_unavailable'
    END
WHERE fetch_status = 'fetch_failed';

ALTER TABLE participations DROP COLUMN fetch_error;

-- A failed fetch always says why, and only a failed fetch has a reason.
ALTER TABLE participations
    ADD CONSTRAINT participations_fetch_error_code_when_failed
        CHECK ((fetch_status = 'fetch_failed') = (fetch_error_code IS NOT NULL));
