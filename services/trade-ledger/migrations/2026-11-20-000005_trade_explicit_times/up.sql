-- openedAt / closedAt are either given by the bot (they stand) or derived from fills (they
-- follow the transactions: a reopened trade loses its derived closedAt). Remember which.
ALTER TABLE bot_trades
    ADD COLUMN opened_at_explicit boolean NOT NULL DEFAULT false,
    ADD COLUMN closed_at_explicit boolean NOT NULL DEFAULT false;
