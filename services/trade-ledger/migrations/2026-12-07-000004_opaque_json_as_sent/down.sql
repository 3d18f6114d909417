DROP INDEX participations_trade;
DROP INDEX transactions_trade;
CREATE INDEX transactions_trade ON transactions (bot_trade_id, created_at);

ALTER TABLE user_bot_states ALTER COLUMN state TYPE jsonb USING state::jsonb;

ALTER TABLE transactions ALTER COLUMN metadata DROP DEFAULT;
ALTER TABLE transactions ALTER COLUMN metadata TYPE jsonb USING metadata::jsonb;
ALTER TABLE transactions ALTER COLUMN metadata SET DEFAULT '{}';

ALTER TABLE bot_trades ALTER COLUMN metadata DROP DEFAULT;
ALTER TABLE bot_trades ALTER COLUMN metadata TYPE jsonb USING metadata::jsonb;
ALTER TABLE bot_trades ALTER COLUMN metadata SET DEFAULT '{}';
