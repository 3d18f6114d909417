-- The code a client is told about a failed fetch (the bus's FetchErrorCode spellings). The
-- detailed reason stays in last_error, for `admin dead-letters`; only the code leaves the
-- fetcher.
ALTER TABLE fetch_jobs ADD COLUMN error_code text
    CHECK (error_code IN ('no_credentials', 'broker_refused', 'order_not_found',
                          'broker_unavailable', 'unstorable_answer', 'fetch_timed_out'));

-- Reasons written before codes existed, mapped by the fetcher's own messages of that time. A
-- reason none of them matches was a malformed broker answer (whose texts vary).
CREATE FUNCTION pg_temp.fetch_error_code(reason text) RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE
        WHEN reason LIKE 'no credentials stored%' OR reason LIKE 'credentials of broker account%'
          OR reason LIKE 'unknown credential environment%' OR reason LIKE 'no client for broker%'
            THEN 'no_credentials'
        WHEN reason LIKE '%broker refused the%' THEN 'broker_refused'
        WHEN reason LIKE '%order not found at the broker%' THEN 'order_not_found'
        WHEN reason LIKE '%broker answered HTTP%' OR reason LIKE '%rate limit%'
          OR reason LIKE '%broker unreachable%' OR reason LIKE '%did not answer within%'
          OR reason LIKE 'credential store unavailable%'
            THEN 'broker_unavailable'
        ELSE 'unstorable_answer'
    END
$$;

UPDATE fetch_jobs SET error_code = pg_temp.fetch_error_code(last_error) WHERE last_error IS NOT NULL;

-- `order fetch failed` events already in the outbox carry the free-text reason. An outcome is
-- published again when the ledger asks a second time, so rewrite them to the new shape: the
-- code, and nothing of the reason.
UPDATE outbox
   SET payload = jsonb_set(payload #- '{data,reason}', '{data,code}',
                           to_jsonb(pg_temp.fetch_error_code(payload #>> '{data,reason}')))
 WHERE subject LIKE '%.order_fetch_failed.v1' AND payload -> 'data' ? 'reason';

DROP FUNCTION pg_temp.fetch_error_code(text);
