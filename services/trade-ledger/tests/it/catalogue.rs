//! The market catalogue on a fresh database: the migration's SIM markets equal the engine's
//! market specs, and `admin create-exchange` / `create-ticker` refuse what the catalogue cannot
//! hold.

use diesel::sql_types::{Bool, Int2, Nullable, Numeric, Text};
use diesel_async::RunQueryDsl;
use domain::ServiceName;
use engine::MarketSpec;
use rust_decimal::Decimal;
use std::path::Path;
use test_support::TestDb;
use trade_ledger::MIGRATIONS;
use trade_ledger::admin::{self, AdminCommand};

async fn fresh_db() -> TestDb {
    let migrations_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
    TestDb::new(ServiceName::TradeLedger.context(), MIGRATIONS, &migrations_dir).await
}

#[derive(diesel::QueryableByName, Debug)]
struct TickerRow {
    #[diesel(sql_type = Text)]
    base_currency: String,
    #[diesel(sql_type = Text)]
    quote_currency: String,
    #[diesel(sql_type = Int2)]
    price_decimals: i16,
    #[diesel(sql_type = Int2)]
    amount_decimals: i16,
    #[diesel(sql_type = Nullable<Numeric>)]
    min_amount: Option<Decimal>,
    #[diesel(sql_type = Nullable<Text>)]
    exchange: Option<String>,
    #[diesel(sql_type = Bool)]
    is_spot: bool,
    #[diesel(sql_type = Bool)]
    is_leverage: bool,
}

async fn ticker(db: &TestDb, symbol: &str) -> Option<TickerRow> {
    diesel::sql_query(
        "SELECT base_currency, quote_currency, price_decimals, amount_decimals, min_amount, exchange, is_spot, \
                is_leverage FROM tickers WHERE symbol = $1",
    )
    .bind::<Text, _>(symbol)
    .get_result(&mut db.connect().await)
    .await
    .ok()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_sim_markets_exist_without_a_seed_and_equal_the_engines_specs() {
    let db = fresh_db().await;
    for spec in [MarketSpec::sim_btc_usdt(), MarketSpec::sim_eth_usdt()] {
        let row = ticker(&db, &spec.symbol).await.unwrap_or_else(|| panic!("{} is in the catalogue", spec.symbol));
        assert_eq!(
            (row.base_currency.as_str(), row.quote_currency.as_str()),
            (spec.base_currency.as_str(), spec.quote_currency.as_str())
        );
        assert_eq!(u32::try_from(row.price_decimals).unwrap(), spec.price_decimals, "{}", spec.symbol);
        assert_eq!(u32::try_from(row.amount_decimals).unwrap(), spec.amount_decimals, "{}", spec.symbol);
        assert_eq!(row.min_amount, Some(spec.minimum_trade_amount), "{}", spec.symbol);
        assert_eq!(row.exchange.as_deref(), Some("SIM"));
        assert!(row.is_spot && row.is_leverage);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn admin_adds_exchanges_and_tickers_and_refuses_what_cannot_be_listed() {
    let db = fresh_db().await;
    let closed = r#"{"kind":"weekly","tz":"America/New_York","open":"09:30","close":"16:00","days":[1,2,3,4,5]}"#;
    let created = admin::run(
        db.url(),
        AdminCommand::CreateExchange {
            id: "TESTX".into(),
            name: "Test exchange".into(),
            spot: true,
            leverage: true,
            calendar: Some(closed.into()),
            disabled: false,
            has_adapter: false,
        },
    )
    .await
    .unwrap();
    assert_eq!(created, serde_json::json!({"exchangeId": "TESTX"}));

    let exchange = |id: &str, calendar: Option<&str>| AdminCommand::CreateExchange {
        id: id.into(),
        name: "X".into(),
        spot: false,
        leverage: false,
        calendar: calendar.map(str::to_string),
        disabled: false,
        has_adapter: false,
    };
    let refusal = |command| async { admin::run(db.url(), command).await.unwrap_err().to_string() };
    assert!(refusal(exchange("TESTX", None)).await.contains("already exists"));
    assert!(refusal(exchange("BAD.ID", None)).await.contains("letters, digits"));
    assert!(
        refusal(exchange(
            "TZX",
            Some(r#"{"kind":"weekly","tz":"Mars/Base","open":"09:30","close":"16:00","days":[1]}"#)
        ))
        .await
        .contains("tz")
    );

    let ticker_command = |symbol: &str, price_decimals: i16| AdminCommand::CreateTicker {
        symbol: symbol.into(),
        asset_type: "crypto".into(),
        exchange: Some("TESTX".into()),
        price_decimals,
        amount_decimals: 3,
        min_amount: Some(Decimal::new(1, 3)),
    };
    admin::run(db.url(), ticker_command("TESTX_SOL_USD_", 2)).await.unwrap();
    let row = ticker(&db, "TESTX_SOL_USD_").await.unwrap();
    assert_eq!((row.base_currency.as_str(), row.quote_currency.as_str()), ("SOL", "USD"));
    assert!(row.is_spot && row.is_leverage, "flags from its exchange");

    for (symbol, decimals, expected) in [
        ("TESTX.SOL", 2, "subject token"),
        ("TESTX_*", 2, "subject token"),
        ("TESTX >", 2, "subject token"),
        ("TESTX_ADA_USD_", 11, "price decimals must be between 0 and 10"),
    ] {
        let error = refusal(ticker_command(symbol, decimals)).await;
        assert!(error.contains(expected), "{symbol}: {error}");
        assert!(ticker(&db, symbol).await.is_none(), "{symbol} was not added");
    }
}
