DROP TABLE run_log_lines;
DROP TABLE run_fills;
DROP TABLE run_positions;
DROP TABLE run_orders;
DROP INDEX runs_needing_an_owner;
ALTER TABLE runs DROP COLUMN applied_revision;
ALTER TABLE runs DROP COLUMN failed_revision;
ALTER TABLE runs DROP CONSTRAINT runs_state;
