-- `order fetch failed` events get their free-text reason back: the job's last error where the
-- event is the job's latest outcome, else the code's spelling.
UPDATE outbox AS o
   SET payload = jsonb_set(o.payload #- '{data,code}', '{data,reason}',
                           to_jsonb(coalesce((SELECT j.last_error FROM fetch_jobs AS j
                                               WHERE j.outcome_event_id = o.id),
                                             o.payload #>> '{data,code}')))
 WHERE o.subject LIKE '%.order_fetch_failed.v1' AND o.payload -> 'data' ? 'code';

ALTER TABLE fetch_jobs DROP COLUMN error_code;
