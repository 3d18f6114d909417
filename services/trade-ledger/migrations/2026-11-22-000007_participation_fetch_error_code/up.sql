-- A participation's fetch error is one of six fixed codes (clients see the code's fixed
-- message). The free text it replaces was the fetcher's own error, which could carry account
-- ids and broker answers to clients.
ALTER TABLE participations
    ADD COLUMN fetch_error_code text
        CHECK (fetch_error_code IN ('no_credentials', 'broker_refused', 'order_not_found',
                                    'broker_unavailable', 'unstorable_answer', 'fetch_timed_out'));

-- The old texts, as the fetcher wrote them, mapped by the same rule as the fetcher's own
-- migration (so both services tell a client the same code for the same failure). A text none
-- of them matches was a malformed broker answer, whose texts vary.
UPDATE participations SET fetch_error_code = CASE
        WHEN fetch_error LIKE 'no credentials stored%' OR fetch_error LIKE 'credentials of broker account%'
          OR fetch_error LIKE 'unknown credential environment%' OR fetch_error LIKE 'no client for broker%'
            THEN 'no_credentials'
        WHEN fetch_error LIKE '%broker refused the%' THEN 'broker_refused'
        WHEN fetch_error LIKE '%order not found at the broker%' THEN 'order_not_found'
        WHEN fetch_error LIKE '%broker answered HTTP%' OR fetch_error LIKE '%rate limit%'
          OR fetch_error LIKE '%broker unreachable%' OR fetch_error LIKE '%did not answer within%'
          OR fetch_error LIKE 'credential store unavailable%'
            THEN 'broker_unavailable'
        ELSE 'unstorable_answer'
    END
WHERE fetch_status = 'fetch_failed';

ALTER TABLE participations DROP COLUMN fetch_error;

-- A failed fetch always says why, and only a failed fetch has a reason.
ALTER TABLE participations
    ADD CONSTRAINT participations_fetch_error_code_when_failed
        CHECK ((fetch_status = 'fetch_failed') = (fetch_error_code IS NOT NULL));
