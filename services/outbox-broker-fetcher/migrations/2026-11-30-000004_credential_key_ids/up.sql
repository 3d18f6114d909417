-- Key rotation. Each sealed credential names the key that sealed it (credentials.key_id, or
-- an id of credentials.previous_keys) and what its associated data binds it to:
--   1: the broker account id (every row sealed before this migration);
--   2: the broker account id followed by the environment (`live` / `sandbox`), so a row
--      whose environment is flipped no longer opens.
-- Rows sealed before key ids existed were sealed with the one configured key, whose id is
-- `initial` (the default credentials.key_id). `admin rotate-keys` re-seals old rows.
ALTER TABLE broker_credentials
    ADD COLUMN key_id      text     NOT NULL DEFAULT 'initial' CHECK (key_id <> ''),
    ADD COLUMN aad_version smallint NOT NULL DEFAULT 1 CHECK (aad_version IN (1, 2));

-- The defaults only describe the rows above: every write from now on says both.
ALTER TABLE broker_credentials
    ALTER COLUMN key_id DROP DEFAULT,
    ALTER COLUMN aad_version DROP DEFAULT;
