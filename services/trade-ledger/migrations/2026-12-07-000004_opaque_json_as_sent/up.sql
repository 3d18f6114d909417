-- A bot's `metadata` and `state` come back exactly as it sent them. jsonb rewrites what it
-- stores (keys reordered and deduplicated, `1e3` expanded to `1000`, whitespace dropped) and
-- refuses some JSON; json keeps the text as sent and still refuses what is not JSON. Existing
-- values keep jsonb's rendering of them.
ALTER TABLE bot_trades ALTER COLUMN metadata DROP DEFAULT;
ALTER TABLE bot_trades ALTER COLUMN metadata TYPE json USING metadata::json;
ALTER TABLE bot_trades ALTER COLUMN metadata SET DEFAULT '{}';

ALTER TABLE transactions ALTER COLUMN metadata DROP DEFAULT;
ALTER TABLE transactions ALTER COLUMN metadata TYPE json USING metadata::json;
ALTER TABLE transactions ALTER COLUMN metadata SET DEFAULT '{}';

ALTER TABLE user_bot_states ALTER COLUMN state TYPE json USING state::json;

-- Paging a trade's transactions and participations in (created_at, id) order.
DROP INDEX transactions_trade;
CREATE INDEX transactions_trade ON transactions (bot_trade_id, created_at, id);
CREATE INDEX participations_trade ON participations (bot_trade_id, created_at, id);
