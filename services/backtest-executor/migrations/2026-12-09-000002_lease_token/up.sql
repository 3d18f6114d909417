-- A backtest's lease token grows with each claim (crates/lease) instead of being a random
-- uuid: each claim takes the next value of `backtests_lease_tokens`. Null while no worker
-- holds the job. A run that holds a uuid token when this runs loses it (its writes no longer
-- match), and its job is taken over once `lease_until` passes.
CREATE SEQUENCE backtests_lease_tokens;
ALTER TABLE backtests ALTER COLUMN lease_token TYPE bigint USING NULL;
