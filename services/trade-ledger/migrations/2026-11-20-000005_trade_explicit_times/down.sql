ALTER TABLE bot_trades DROP COLUMN closed_at_explicit, DROP COLUMN opened_at_explicit;
