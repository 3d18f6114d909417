-- Exchange API keys. Partners create users with an exchange's API keys (`publicKey`,
-- `secretKey`, an optional `extraKey`); the ledger never holds them, so they are sealed here,
-- in the one table of secrets, one row per broker account like a Tradier token:
--   kind `tradier_token`: a Tradier access token, for the fetch path. It names the Tradier
--     environment its requests go to, and no exchange.
--   kind `exchange_keys`: an exchange's keys, sealed together as one JSON object. They name
--     their exchange and no Tradier environment, which means nothing to them.
-- Every row written so far is a Tradier token: the default says so.
--
-- A seal is bound to what its row says it is (associated data, see src/crypto.rs):
--   1, 2: Tradier tokens (the account id; then the account id and the environment);
--   3:    exchange keys (the account id and the exchange id), so keys moved to another row or
--         relabelled to another exchange do not open.
-- The shape check ties the version to the kind too: a row cannot claim another kind's binding.
ALTER TABLE broker_credentials
    ADD COLUMN kind        text NOT NULL DEFAULT 'tradier_token' CHECK (kind IN ('tradier_token', 'exchange_keys')),
    ADD COLUMN exchange_id text CHECK (length(exchange_id) BETWEEN 1 AND 64),
    ALTER COLUMN environment DROP NOT NULL,
    DROP CONSTRAINT broker_credentials_aad_version_check,
    ADD CONSTRAINT broker_credentials_aad_version_check CHECK (aad_version IN (1, 2, 3)),
    ADD CONSTRAINT broker_credentials_kind_shape CHECK (
        (kind = 'tradier_token' AND environment IS NOT NULL AND exchange_id IS NULL AND aad_version IN (1, 2))
        OR (kind = 'exchange_keys' AND environment IS NULL AND exchange_id IS NOT NULL AND aad_version = 3)
    );
