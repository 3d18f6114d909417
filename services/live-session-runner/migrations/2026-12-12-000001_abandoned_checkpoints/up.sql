-- When a run's saved engine could not be read and was given up on. A new engine would number
-- its orders, positions and fills from 1 again, over the rows (and the ledger's trades) of the
-- one that was lost, so such a run never trades again: its bot must be created anew.
ALTER TABLE runs ADD COLUMN checkpoint_abandoned_at timestamptz;
