// @generated automatically by Diesel CLI.

diesel::table! {
    api_keys (id) {
        id -> Uuid,
        owner_kind -> Text,
        owner_id -> Uuid,
        lookup_prefix -> Text,
        secret_sha256 -> Bytea,
        created_at -> Timestamptz,
        revoked_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    bot_followers (bot_id, broker_account_id, ticker_id) {
        bot_id -> Uuid,
        broker_account_id -> Uuid,
        ticker_id -> Uuid,
        quantity -> Numeric,
        status -> Text,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    bot_trades (id) {
        id -> Uuid,
        bot_id -> Uuid,
        symbol -> Text,
        trade_type -> Text,
        status -> Text,
        signal_at -> Timestamptz,
        opened_at -> Nullable<Timestamptz>,
        closed_at -> Nullable<Timestamptz>,
        net_pnl -> Nullable<Numeric>,
        error_message -> Nullable<Text>,
        error_at -> Nullable<Timestamptz>,
        metadata -> Json,
        created_at -> Timestamptz,
        last_update_at -> Timestamptz,
        opened_at_explicit -> Bool,
        closed_at_explicit -> Bool,
        source_position_id -> Nullable<Text>,
    }
}

diesel::table! {
    bots (id) {
        id -> Uuid,
        slug -> Nullable<Text>,
        name -> Text,
        kind -> Text,
        owner_user_id -> Nullable<Uuid>,
        created_at -> Timestamptz,
        partner_id -> Nullable<Uuid>,
        script_type -> Nullable<Text>,
        exchange_id -> Nullable<Text>,
        symbol -> Nullable<Text>,
        settings -> Nullable<Jsonb>,
        status -> Nullable<Text>,
        master_bot_id -> Nullable<Uuid>,
        follow_updates -> Bool,
        cloned -> Int4,
        revision -> Int8,
        profit -> Numeric,
        roi -> Numeric,
        perf_seq -> Int8,
        deleted_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    broker_accounts (id) {
        id -> Uuid,
        user_id -> Uuid,
        broker -> Text,
        account_number -> Text,
        created_at -> Timestamptz,
        paper -> Bool,
    }
}

diesel::table! {
    exchanges (id) {
        id -> Text,
        name -> Text,
        is_spot -> Bool,
        is_leverage -> Bool,
        enabled -> Bool,
        has_adapter -> Bool,
        calendar -> Jsonb,
        created_at -> Timestamptz,
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

diesel::table! {
    participations (id) {
        id -> Uuid,
        bot_trade_id -> Uuid,
        user_id -> Uuid,
        broker_account_id -> Uuid,
        broker_order_id -> Text,
        child_order_ids -> Array<Nullable<Text>>,
        units -> Numeric,
        fetch_status -> Text,
        broker_order_status -> Nullable<Text>,
        filled_quantity -> Nullable<Numeric>,
        avg_fill_price -> Nullable<Numeric>,
        child_orders -> Nullable<Jsonb>,
        fetched_at -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        fetch_event_id -> Nullable<Uuid>,
        fetch_requested_at -> Timestamptz,
        fetch_revision -> Int4,
        fetch_error_code -> Nullable<Text>,
        fetch_request_count -> Int4,
    }
}

diesel::table! {
    partners (id) {
        id -> Uuid,
        name -> Text,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    tickers (id) {
        id -> Uuid,
        symbol -> Text,
        asset_type -> Text,
        exchange -> Nullable<Text>,
        price_decimals -> Int2,
        amount_decimals -> Int2,
        min_amount -> Nullable<Numeric>,
        created_at -> Timestamptz,
        base_currency -> Text,
        quote_currency -> Text,
        contract -> Text,
        min_volume -> Numeric,
        is_spot -> Bool,
        is_leverage -> Bool,
    }
}

diesel::table! {
    transactions (id) {
        id -> Uuid,
        bot_trade_id -> Uuid,
        transaction_group -> Text,
        exit_type -> Nullable<Text>,
        trim_level -> Nullable<Numeric>,
        symbol -> Text,
        asset_type -> Text,
        side -> Text,
        order_type -> Text,
        quantity -> Numeric,
        transaction_date -> Timestamptz,
        stop_price -> Nullable<Numeric>,
        price -> Nullable<Numeric>,
        option_type -> Nullable<Text>,
        strike_price -> Nullable<Numeric>,
        expiration_date -> Nullable<Text>,
        status -> Text,
        filled_at -> Nullable<Timestamptz>,
        filled_price -> Nullable<Numeric>,
        filled_quantity -> Nullable<Numeric>,
        avg_fill_price -> Nullable<Numeric>,
        broker -> Nullable<Text>,
        broker_account_number -> Nullable<Text>,
        broker_order_id -> Nullable<Text>,
        broker_parent_order_id -> Nullable<Text>,
        notes -> Nullable<Text>,
        metadata -> Json,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    user_bot_states (id) {
        id -> Uuid,
        bot_id -> Uuid,
        broker_account_id -> Uuid,
        ticker_id -> Uuid,
        state -> Json,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    users (id) {
        id -> Uuid,
        partner_id -> Nullable<Uuid>,
        email -> Nullable<Text>,
        created_at -> Timestamptz,
        exchange_id -> Nullable<Text>,
        exchange_user_id -> Nullable<Text>,
        bots_started -> Int4,
        deleted_at -> Nullable<Timestamptz>,
    }
}

diesel::joinable!(bot_followers -> bots (bot_id));
diesel::joinable!(bot_followers -> broker_accounts (broker_account_id));
diesel::joinable!(bot_followers -> tickers (ticker_id));
diesel::joinable!(bot_trades -> bots (bot_id));
diesel::joinable!(bots -> partners (partner_id));
diesel::joinable!(bots -> users (owner_user_id));
diesel::joinable!(broker_accounts -> users (user_id));
diesel::joinable!(participations -> bot_trades (bot_trade_id));
diesel::joinable!(participations -> broker_accounts (broker_account_id));
diesel::joinable!(participations -> users (user_id));
diesel::joinable!(transactions -> bot_trades (bot_trade_id));
diesel::joinable!(user_bot_states -> bots (bot_id));
diesel::joinable!(user_bot_states -> broker_accounts (broker_account_id));
diesel::joinable!(user_bot_states -> tickers (ticker_id));
diesel::joinable!(users -> partners (partner_id));

diesel::allow_tables_to_appear_in_same_query!(
    api_keys,
    bot_followers,
    bot_trades,
    bots,
    broker_accounts,
    exchanges,
    idempotency_records,
    participations,
    partners,
    tickers,
    transactions,
    user_bot_states,
    users,
);
