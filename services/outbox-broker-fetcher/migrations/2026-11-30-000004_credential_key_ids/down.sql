-- The code before this migration opens only rows sealed with its one key and the account id
-- alone as associated data (key `initial`, version 1). Rows re-sealed since do not open
-- there: store their credentials again after reverting.
ALTER TABLE broker_credentials
    DROP COLUMN aad_version,
    DROP COLUMN key_id;
