-- The relay's claims are fenced (crates/lease): each claim takes the next token from
-- `outbox_lease_tokens` and stores it in `lease_token`, and the relay's writes after the
-- publish (published, retry later, dead) apply only while the row still carries that token.
-- A relay whose lease ran out while it published, and whose rows another relay claimed
-- since, changes nothing. Null while no relay holds the row. `locked_until` stays the
-- lease's expiry (and the wait before a failed row is tried again).
CREATE SEQUENCE outbox_lease_tokens;
ALTER TABLE outbox ADD COLUMN lease_token bigint;
