// @generated automatically by Diesel CLI.

diesel::table! {
    broker_credentials (broker_account_id) {
        broker_account_id -> Uuid,
        environment -> Nullable<Text>,
        nonce -> Bytea,
        ciphertext -> Bytea,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        key_id -> Text,
        aad_version -> Int2,
        kind -> Text,
        exchange_id -> Nullable<Text>,
    }
}

diesel::table! {
    erased_broker_accounts (broker_account_id) {
        broker_account_id -> Uuid,
        erased_at -> Timestamptz,
    }
}

diesel::table! {
    fetch_jobs (participation_id) {
        participation_id -> Uuid,
        request_event_id -> Uuid,
        broker -> Text,
        broker_account_id -> Uuid,
        broker_account_number -> Text,
        broker_order_id -> Text,
        child_order_ids -> Array<Nullable<Text>>,
        status -> Text,
        attempts -> Int4,
        failures -> Int4,
        next_attempt_at -> Timestamptz,
        locked_until -> Nullable<Timestamptz>,
        last_error -> Nullable<Text>,
        revision -> Int4,
        outcome_event_id -> Nullable<Uuid>,
        requested_at -> Timestamptz,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        error_code -> Nullable<Text>,
        retrying_since -> Timestamptz,
        lease_token -> Nullable<Int8>,
    }
}

diesel::table! {
    order_snapshots (participation_id, order_id) {
        participation_id -> Uuid,
        order_id -> Text,
        is_parent -> Bool,
        status -> Text,
        broker_status -> Text,
        quantity -> Numeric,
        filled_quantity -> Numeric,
        avg_fill_price -> Nullable<Numeric>,
        raw -> Jsonb,
        fetched_at -> Timestamptz,
    }
}

diesel::joinable!(order_snapshots -> fetch_jobs (participation_id));

diesel::allow_tables_to_appear_in_same_query!(broker_credentials, erased_broker_accounts, fetch_jobs, order_snapshots,);
