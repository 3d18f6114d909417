-- The code before this migration knows Tradier tokens only, and its table has no place for
-- exchange keys (no kind, an environment on every row): reverting erases every exchange key
-- stored. Partners must create those users again (or their keys be stored again) afterwards.
DELETE FROM broker_credentials WHERE kind = 'exchange_keys';

ALTER TABLE broker_credentials
    DROP CONSTRAINT broker_credentials_kind_shape,
    DROP CONSTRAINT broker_credentials_aad_version_check,
    ADD CONSTRAINT broker_credentials_aad_version_check CHECK (aad_version IN (1, 2)),
    ALTER COLUMN environment SET NOT NULL,
    DROP COLUMN exchange_id,
    DROP COLUMN kind;
