-- Broker accounts whose user was deleted (the ledger's `user deleted`), remembered so that no
-- exchange keys are ever stored for them again. The gateway derives a partner user's broker
-- account id from the partner, the Idempotency-Key and the request's hash, so a late replay
-- of `POST /partner/v1/users/create` reaches the same account id; without this table its
-- `store exchange credentials` would bring the deleted user's keys back, and no event would
-- ever erase them again (each `user deleted` erases once, through the inbox).
--
-- The erasure writes a row for every account of the event, with the delete and its inbox row
-- in one transaction; a store reads it in its own transaction and writes nothing when it
-- finds one. Both first take a transaction-level advisory lock on each account
-- (`pg_advisory_xact_lock(hashtextextended(<account id>::text, 0))`, the erasure in account
-- order), so a store running alongside an erasure either commits before it (and its keys are
-- erased) or sees the row.
--
-- Rows are tiny and an account id is never reused: they are kept for good, never pruned.
CREATE TABLE erased_broker_accounts (
    broker_account_id uuid PRIMARY KEY,
    erased_at         timestamptz NOT NULL DEFAULT now()
);
