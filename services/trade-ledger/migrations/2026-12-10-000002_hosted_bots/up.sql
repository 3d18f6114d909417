-- Hosted bots (docs/api/partner.md#hosted-bots): grid, DCA and webhook bots a partner runs for
-- its users. The ledger keeps their definition and desired state; the runner trades them and
-- hears of every change through the revisioned `hosted_bot_changed` event.
--
-- Hosted and strategy bots have no Bot API surface, so `slug` becomes optional: the Bot API
-- answers 404 for them. `kind` stays the engine family (grid / dca / webhook); `script_type`
-- tells spot from futures. `status` is the desired state of a hosted bot (running / stopped),
-- a strategy bot's idle / archived, and null for external bots.
ALTER TABLE bots
    ALTER COLUMN slug DROP NOT NULL,
    ADD COLUMN partner_id     uuid REFERENCES partners (id),
    ADD COLUMN script_type    text CHECK (script_type IN ('spot_grid', 'futures_grid', 'spot_dollar_cost_averaging',
                                                          'futures_dollar_cost_averaging', 'webhook')),
    ADD COLUMN exchange_id    text,
    ADD COLUMN symbol         text,
    ADD COLUMN settings       jsonb,
    ADD COLUMN status         text,
    -- The root master this bot follows (one level: followers follow the root).
    ADD COLUMN master_bot_id  uuid REFERENCES bots (id),
    ADD COLUMN follow_updates boolean NOT NULL DEFAULT false,
    -- Copies ever made of it; `followers` is counted from master_bot_id.
    ADD COLUMN cloned         integer NOT NULL DEFAULT 0 CHECK (cloned >= 0),
    -- Bumped on every change of definition or desired state (never by counters alone).
    ADD COLUMN revision       bigint  NOT NULL DEFAULT 0 CHECK (revision >= 0),
    -- A read copy of the runner's figures; `perf_seq` keeps only newer ones.
    ADD COLUMN profit         numeric NOT NULL DEFAULT 0,
    ADD COLUMN roi            numeric NOT NULL DEFAULT 0,
    ADD COLUMN perf_seq       bigint  NOT NULL DEFAULT 0,
    ADD COLUMN deleted_at     timestamptz,
    ADD CONSTRAINT bots_status_per_kind CHECK (CASE kind
        WHEN 'external' THEN status IS NULL
        WHEN 'strategy' THEN status IN ('idle', 'archived')
        ELSE status IN ('running', 'stopped') END),
    ADD CONSTRAINT bots_hosted_definition CHECK (kind NOT IN ('grid', 'dca', 'webhook') OR (
        partner_id IS NOT NULL AND owner_user_id IS NOT NULL AND script_type IS NOT NULL
        AND exchange_id IS NOT NULL AND symbol IS NOT NULL AND settings IS NOT NULL)),
    ADD CONSTRAINT bots_slug_for_external CHECK (kind <> 'external' OR slug IS NOT NULL);

-- `bots/list` and `bots/user`: newest first, paged on (created_at, id).
CREATE INDEX bots_hosted_by_partner ON bots (partner_id, created_at DESC, id DESC)
    WHERE deleted_at IS NULL AND kind IN ('grid', 'dca', 'webhook');
CREATE INDEX bots_hosted_by_user ON bots (owner_user_id, created_at DESC, id DESC)
    WHERE deleted_at IS NULL AND kind IN ('grid', 'dca', 'webhook');
-- A master's followers.
CREATE INDEX bots_followers ON bots (master_bot_id) WHERE master_bot_id IS NOT NULL AND deleted_at IS NULL;
