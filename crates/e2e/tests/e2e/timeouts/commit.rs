//! The commit point honours the request's deadline: `platform::idempotency::run` (with an
//! `Idempotency-Key` and without) and the ledger's PATCH usecases, which go around it, roll
//! back a write whose deadline passed before its commit. The test is its own responder: it
//! runs the ledger's usecases inside `bus::deadline::scope`, as `bus::serve` does, and its
//! hook (a pause between the work and the commit) lives in the work it hands over, not in
//! production code.

use bus::BusError;
use bus::deadline::{self, Deadline};
use bus::messages::idempotency::{Command, IdempotencyKey, Replayable};
use bus::messages::trades::{CreateTrade, TradeReply, UpdateTrade, UpdateTransaction};
use diesel_async::RunQueryDsl;
use domain::{BotId, ServiceName};
use platform::db::PgPool;
use platform::idempotency;
use platform::settings::DatabaseSettings;
use serde_json::{Value, json};
use std::path::Path;
use std::time::Duration;
use test_support::TestDb;
use trade_ledger::usecase::trades;

struct Ledger {
    db: TestDb,
    pool: PgPool,
    bot_id: BotId,
}

impl Ledger {
    async fn start() -> Self {
        let migrations = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../services/trade-ledger/migrations");
        let db = TestDb::new(ServiceName::TradeLedger.context(), trade_ledger::MIGRATIONS, &migrations).await;
        let bot = trade_ledger::admin::run(
            db.url(),
            trade_ledger::admin::AdminCommand::CreateBot { slug: "late-bot".into(), name: "Late".into(), owner: None },
        )
        .await
        .unwrap();
        let pool = platform::db::pool(&DatabaseSettings {
            url: db.url().to_string(),
            max_connections: 2,
            ..DatabaseSettings::local("unused")
        })
        .unwrap();
        Self { db, pool, bot_id: bot["botId"].as_str().unwrap().parse().unwrap() }
    }

    fn create_trade(&self, idempotency_key: Option<&str>) -> Command<CreateTrade> {
        let command = serde_json::from_value(json!({
            "botId": self.bot_id, "symbol": "AAPL", "tradeType": "long", "signalAt": "2024-01-15T10:30:00Z",
            "metadata": {}, "transactions": [{
                "transactionGroup": "entry", "symbol": "AAPL", "assetType": "stock", "side": "buy",
                "type": "market", "quantity": "10", "transactionDate": "2024-01-15T10:30:00Z",
                "status": "open", "metadata": {}
            }]
        }))
        .unwrap();
        let idempotency =
            idempotency_key.map(|key| IdempotencyKey { key: key.to_string(), request_hash: "ab".repeat(32) });
        Command { idempotency, command }
    }

    /// Runs `create trade` as the ledger's responder does, pausing `pause` between the work
    /// and the commit.
    async fn create(&self, command: Command<CreateTrade>, pause: Duration) -> Result<Replayable<TradeReply>, BusError> {
        idempotency::run(&self.pool, self.bot_id, command, move |tx, request| {
            Box::pin(async move {
                let reply = trades::create(tx, request).await?;
                tokio::time::sleep(pause).await;
                Ok(reply)
            })
        })
        .await
    }

    async fn count(&self, sql: &str) -> i64 {
        #[derive(diesel::QueryableByName)]
        struct Count {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            count: i64,
        }
        let mut connection = self.db.connect().await;
        diesel::sql_query(sql).get_result::<Count>(&mut connection).await.unwrap().count
    }

    async fn written(&self) -> (i64, i64, i64) {
        (
            self.count("SELECT count(*) FROM bot_trades").await,
            self.count("SELECT count(*) FROM transactions").await,
            self.count("SELECT count(*) FROM idempotency_records").await,
        )
    }
}

fn late(result: &Result<impl std::fmt::Debug, BusError>) -> bool {
    matches!(result, Err(BusError::Unavailable { message }) if message.contains("deadline"))
}

#[tokio::test(flavor = "multi_thread")]
async fn a_write_whose_deadline_passes_before_its_commit_commits_nothing() {
    let ledger = Ledger::start().await;

    // The work is done, then the deadline passes during the pause before the commit.
    for key in [None, Some("key-1")] {
        let deadline = Deadline::after(Duration::from_millis(100));
        let outcome =
            deadline::scope(Some(deadline), ledger.create(ledger.create_trade(key), Duration::from_millis(300))).await;
        assert!(late(&outcome), "key {key:?}: {outcome:?}");
        assert_eq!(ledger.written().await, (0, 0, 0), "key {key:?}: the trade, its transaction and the stored reply");
    }

    // The same work within its deadline commits: the pause alone changes nothing.
    let in_time = Deadline::after(Duration::from_secs(30));
    let outcome =
        deadline::scope(Some(in_time), ledger.create(ledger.create_trade(None), Duration::from_millis(300))).await;
    assert!(matches!(outcome, Ok(Replayable::Fresh(_))), "{outcome:?}");
    assert_eq!(ledger.written().await, (1, 1, 0));

    // The key whose first request rolled back is free: the retry runs, once.
    let retry = deadline::scope(Some(in_time), ledger.create(ledger.create_trade(Some("key-1")), Duration::ZERO)).await;
    assert!(matches!(retry, Ok(Replayable::Fresh(_))), "{retry:?}");
    let repeat =
        deadline::scope(Some(in_time), ledger.create(ledger.create_trade(Some("key-1")), Duration::ZERO)).await;
    assert!(matches!(repeat, Ok(Replayable::Replayed(_))), "{repeat:?}");
    assert_eq!(ledger.written().await, (2, 2, 1));
}

#[tokio::test(flavor = "multi_thread")]
async fn the_ledgers_patches_roll_back_past_their_deadline() {
    let ledger = Ledger::start().await;
    let created = ledger.create(ledger.create_trade(None), Duration::ZERO).await.unwrap();
    let created: Value = serde_json::to_value(&created).unwrap();
    let trade_id = created["trade"]["id"].as_str().unwrap().to_string();
    let transaction_id = created["trade"]["transactions"][0]["id"].as_str().unwrap().to_string();
    let update_trade = || -> UpdateTrade {
        serde_json::from_value(json!({"botId": ledger.bot_id, "tradeId": trade_id, "patch": {"errorMessage": "boom"}}))
            .unwrap()
    };
    let update_transaction = || -> UpdateTransaction {
        serde_json::from_value(json!({
            "botId": ledger.bot_id, "tradeId": trade_id, "transactionId": transaction_id, "patch": {"status": "filled"}
        }))
        .unwrap()
    };
    let errored = "SELECT count(*) FROM bot_trades WHERE error_message = 'boom'";
    let filled = "SELECT count(*) FROM transactions WHERE status = 'filled'";

    // A deadline that passed before the commit point: the work runs, then rolls back.
    let passed = Some(Deadline::passed(Duration::from_millis(1)));
    let outcome = deadline::scope(passed, trades::update(&ledger.pool, update_trade())).await;
    assert!(late(&outcome), "{outcome:?}");
    assert_eq!(ledger.count(errored).await, 0);
    let outcome = deadline::scope(passed, trades::update_transaction(&ledger.pool, update_transaction())).await;
    assert!(late(&outcome), "{outcome:?}");
    assert_eq!(ledger.count(filled).await, 0);

    // In time, the same patches apply.
    let in_time = Some(Deadline::after(Duration::from_secs(30)));
    deadline::scope(in_time, trades::update(&ledger.pool, update_trade())).await.unwrap();
    assert_eq!(ledger.count(errored).await, 1);
    deadline::scope(in_time, trades::update_transaction(&ledger.pool, update_transaction())).await.unwrap();
    assert_eq!(ledger.count(filled).await, 1);
}
