ALTER TABLE runs DROP COLUMN checkpoint_abandoned_at;
