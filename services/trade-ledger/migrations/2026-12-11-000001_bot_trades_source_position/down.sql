DROP INDEX bot_trades_source_position;
ALTER TABLE bot_trades DROP COLUMN source_position_id;
