-- Fills become ledger trades (docs/live.md#fills-become-ledger-trades): each position of a
-- hosted bot (or of a strategy session) is one bot trade, found again by the runner's id of the
-- position when its next fill arrives. Trades the Bot API creates have none.
ALTER TABLE bot_trades ADD COLUMN source_position_id text;
CREATE UNIQUE INDEX bot_trades_source_position ON bot_trades (bot_id, source_position_id)
    WHERE source_position_id IS NOT NULL;
