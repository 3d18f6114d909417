-- Going back would bring deleted partner users back to life (and their tokens with them).
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM users WHERE deleted_at IS NOT NULL) THEN
        RAISE EXCEPTION 'deleted partner users exist: reverting would restore them';
    END IF;
END $$;
ALTER TABLE broker_accounts DROP COLUMN paper;
DROP INDEX users_partner_newest;
-- Partner users without an e-mail get a placeholder one (unique per user).
UPDATE users SET email = 'partner-user-' || id || '@invalid' WHERE email IS NULL;
ALTER TABLE users
    DROP COLUMN exchange_id,
    DROP COLUMN exchange_user_id,
    DROP COLUMN bots_started,
    DROP COLUMN deleted_at,
    ALTER COLUMN email SET NOT NULL;
DROP INDEX tickers_exchange;
ALTER TABLE tickers
    DROP COLUMN base_currency,
    DROP COLUMN quote_currency,
    DROP COLUMN contract,
    DROP COLUMN min_volume,
    DROP COLUMN is_spot,
    DROP COLUMN is_leverage;
DROP TABLE exchanges;
