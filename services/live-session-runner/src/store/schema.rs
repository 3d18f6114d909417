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
        failed_revision -> Nullable<Int8>,
        applied_revision -> Nullable<Int8>,
        checkpoint_abandoned_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    run_fills (run_id, seq) {
        run_id -> Uuid,
        seq -> Int8,
        order_id -> Int8,
        position_id -> Int8,
        body -> Jsonb,
    }
}

diesel::table! {
    run_log_lines (run_id, line_number) {
        run_id -> Uuid,
        line_number -> Int8,
        time -> Int8,
        severity -> Text,
        message -> Text,
    }
}

diesel::table! {
    run_orders (run_id, order_id) {
        run_id -> Uuid,
        order_id -> Int8,
        status -> Text,
        placed_at -> Int8,
        body -> Jsonb,
    }
}

diesel::table! {
    run_positions (run_id, position_id) {
        run_id -> Uuid,
        position_id -> Int8,
        public_id -> Text,
        status -> Text,
        close_time -> Nullable<Int8>,
        body -> Jsonb,
    }
}

diesel::table! {
    signal_receipts (signal_id, bot_id) {
        delivery_id -> Int8,
        signal_id -> Uuid,
        bot_id -> Uuid,
        bot_kind -> Text,
        bot_revision -> Int8,
        status -> Text,
        reason -> Nullable<Text>,
        order_id -> Nullable<Int8>,
        delivered_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    signals (id) {
        id -> Uuid,
        partner_id -> Uuid,
        token -> Text,
        timestamp -> Int8,
        action -> Text,
        amount -> Numeric,
        price -> Nullable<Numeric>,
        investment_type -> Text,
        max_lag -> Nullable<Int8>,
        metadata -> Text,
        received_at -> Timestamptz,
    }
}

diesel::joinable!(run_fills -> runs (run_id));
diesel::joinable!(run_log_lines -> runs (run_id));
diesel::joinable!(run_orders -> runs (run_id));
diesel::joinable!(run_positions -> runs (run_id));
diesel::joinable!(signal_receipts -> signals (signal_id));

diesel::allow_tables_to_appear_in_same_query!(
    run_fills,
    run_log_lines,
    run_orders,
    run_positions,
    runs,
    signal_receipts,
    signals,
);
