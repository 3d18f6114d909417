// @generated automatically by Diesel CLI.

diesel::table! {
    backtest_logs (backtest_id, line_number) {
        backtest_id -> Uuid,
        line_number -> Int4,
        time -> Int8,
        level -> Int2,
        message -> Text,
    }
}

diesel::table! {
    backtest_positions (backtest_id, position_no) {
        backtest_id -> Uuid,
        position_no -> Int4,
        body -> Jsonb,
    }
}

diesel::table! {
    backtests (id) {
        id -> Uuid,
        partner_id -> Uuid,
        user_id -> Nullable<Text>,
        script_type -> Text,
        exchange_id -> Text,
        market -> Text,
        timeframe_secs -> Int4,
        settings -> Jsonb,
        start_unix -> Int8,
        end_unix -> Int8,
        state -> Text,
        progress -> Int2,
        message -> Text,
        accepted_by -> Text,
        service_id -> Nullable<Text>,
        lease_token -> Nullable<Uuid>,
        lease_until -> Nullable<Timestamptz>,
        attempts -> Int4,
        created_at -> Timestamptz,
        execution_start -> Nullable<Timestamptz>,
        execution_end -> Nullable<Timestamptz>,
        results -> Nullable<Jsonb>,
        equity -> Nullable<Jsonb>,
        claim_token -> Nullable<Int8>,
    }
}

diesel::table! {
    candle_chunks (market, timeframe_secs, period_start) {
        market -> Text,
        timeframe_secs -> Int4,
        period_start -> Int8,
        first_open -> Int8,
        last_open -> Int8,
        candles -> Int4,
        format -> Int2,
        price_scale -> Int2,
        volume_scale -> Int2,
        body -> Bytea,
    }
}

diesel::table! {
    idempotency_records (scope, key) {
        scope -> Text,
        key -> Text,
        request_hash -> Bytea,
        response_status -> Nullable<Int2>,
        response_body -> Nullable<Text>,
        created_at -> Timestamptz,
        expires_at -> Timestamptz,
    }
}

diesel::allow_tables_to_appear_in_same_query!(
    backtest_logs,
    backtest_positions,
    backtests,
    candle_chunks,
    idempotency_records,
);
