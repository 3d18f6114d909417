// @generated automatically by Diesel CLI.

diesel::table! {
    runs (id) {
        id -> Uuid,
        kind -> Text,
        bot_id -> Uuid,
        session_id -> Nullable<Uuid>,
        partner_id -> Nullable<Uuid>,
        user_id -> Uuid,
        revision -> Int8,
        desired -> Text,
        state -> Text,
        script_type -> Text,
        settings -> Jsonb,
        market -> Jsonb,
        exchange_id -> Text,
        lease_owner -> Nullable<Text>,
        lease_token -> Nullable<Int8>,
        lease_until -> Nullable<Timestamptz>,
        checkpoint -> Nullable<Bytea>,
        checkpoint_format -> Nullable<Int4>,
        checkpoint_at -> Nullable<Timestamptz>,
        next_log_line -> Int8,
        last_quote_ms -> Nullable<Int8>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}
