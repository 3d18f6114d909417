DROP INDEX bots_followers;
DROP INDEX bots_hosted_by_user;
DROP INDEX bots_hosted_by_partner;
-- Hosted bots cannot exist without their columns (their trades go with them).
DELETE FROM transactions WHERE bot_trade_id IN (SELECT t.id FROM bot_trades t JOIN bots b ON b.id = t.bot_id WHERE b.slug IS NULL);
DELETE FROM bot_trades WHERE bot_id IN (SELECT id FROM bots WHERE slug IS NULL);
DELETE FROM bots WHERE slug IS NULL;
ALTER TABLE bots
    DROP CONSTRAINT bots_slug_for_external,
    DROP CONSTRAINT bots_hosted_definition,
    DROP CONSTRAINT bots_status_per_kind,
    DROP COLUMN deleted_at,
    DROP COLUMN perf_seq,
    DROP COLUMN roi,
    DROP COLUMN profit,
    DROP COLUMN revision,
    DROP COLUMN cloned,
    DROP COLUMN follow_updates,
    DROP COLUMN master_bot_id,
    DROP COLUMN status,
    DROP COLUMN settings,
    DROP COLUMN symbol,
    DROP COLUMN exchange_id,
    DROP COLUMN script_type,
    DROP COLUMN partner_id,
    ALTER COLUMN slug SET NOT NULL;
