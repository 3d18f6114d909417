-- A backtest's lease token grows with each claim (crates/lease) instead of being a random
-- uuid: each claim takes the next value of `backtests_lease_tokens` into `claim_token`, null
-- while no worker holds the job. Expand, then contract: the uuid `lease_token` column stays
-- untouched so that the previous release keeps working while both run side by side during a
-- rollout; a later release drops it.
CREATE SEQUENCE backtests_lease_tokens;
ALTER TABLE backtests ADD COLUMN claim_token bigint;
