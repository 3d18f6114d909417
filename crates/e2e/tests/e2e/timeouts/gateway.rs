//! Through a real gateway and ledger: the ledger is slowed by a row lock the test holds on its
//! database, the client gets 504 and nothing is written, and a retry with the same
//! `Idempotency-Key` then succeeds, once.

use crate::system::System;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use domain::ServiceName;
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::time::Duration;
use tokio_util::sync::CancellationToken;
use trade_ledger::admin::AdminCommand;
use uuid::Uuid;

/// The test gateway's backend timeout: short, so that a held lock outlasts it, and far below
/// the ledger's statement timeout, so that the ledger's blocked statement is still waiting
/// (not cancelled) when the test releases the lock.
const GATEWAY_TIMEOUT_MS: u64 = 1_000;

struct Scene {
    system: System,
    gateway: SocketAddr,
    gateway_shutdown: CancellationToken,
    slug: String,
    key: String,
    trade_id: Uuid,
}

impl Drop for Scene {
    fn drop(&mut self) {
        self.gateway_shutdown.cancel();
    }
}

#[derive(diesel::QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    count: i64,
}

impl Scene {
    /// The system, a bot with a pending trade, and a second gateway with a short backend
    /// timeout on the same bus.
    async fn start() -> Self {
        let system = System::start().await.expect("the system starts");
        let created =
            system.admin(AdminCommand::CreateBot { slug: "slow-bot".into(), name: "Slow".into(), owner: None }).await;
        let bot_id = created["botId"].as_str().unwrap().to_string();
        let trade_id = Uuid::now_v7();
        let mut connection = system.db(ServiceName::TradeLedger).connect().await;
        diesel::sql_query(format!(
            "INSERT INTO bot_trades (id, bot_id, symbol, trade_type, status, signal_at) \
             VALUES ('{trade_id}', '{bot_id}', 'AAPL', 'long', 'pending', now())"
        ))
        .execute(&mut connection)
        .await
        .unwrap();
        let gateway_shutdown = CancellationToken::new();
        let mut settings = gateway::Settings {
            http: platform::settings::HttpSettings {
                port: 0,
                workers: 1,
                ..platform::settings::HttpSettings::local(0)
            },
            nats: system.nats().settings_as(bus::GATEWAY_USER),
            ..Default::default()
        };
        settings.gateway.backend_timeout_ms = GATEWAY_TIMEOUT_MS;
        let app = gateway::App::build(settings).await.unwrap();
        let gateway = app.addr();
        tokio::spawn(app.run_until_stopped(gateway_shutdown.clone()));
        Self {
            system,
            gateway,
            gateway_shutdown,
            slug: "slow-bot".into(),
            key: created["apiKey"].as_str().unwrap().to_string(),
            trade_id,
        }
    }

    async fn add_transactions(&self, idempotency_key: Option<&str>) -> (u16, Value) {
        let body = json!({"transactions": [
            {"transactionGroup": "entry", "symbol": "AAPL", "assetType": "stock", "side": "buy", "type": "market",
             "quantity": 10, "transactionDate": "2024-01-15T10:30:00Z", "status": "filled",
             "filledAt": "2024-01-15T10:30:05Z"},
            {"transactionGroup": "entry", "symbol": "AAPL", "assetType": "stock", "side": "buy", "type": "limit",
             "price": "190.5", "quantity": 5, "transactionDate": "2024-01-15T10:31:00Z"}
        ]});
        let url = format!("http://{}/api/bots/{}/trades/{}/transactions", self.gateway, self.slug, self.trade_id);
        let mut request = test_support::http_client()
            .post(url)
            .header("x-api-key", &self.key)
            .header("content-type", "application/json")
            .body(body.to_string());
        if let Some(key) = idempotency_key {
            request = request.header("Idempotency-Key", key);
        }
        let response = request.send().await.unwrap();
        (response.status().as_u16(), response.json().await.unwrap())
    }

    async fn count(&self, sql: &str) -> i64 {
        let mut connection = self.system.db(ServiceName::TradeLedger).connect().await;
        diesel::sql_query(sql).get_result::<Count>(&mut connection).await.unwrap().count
    }

    async fn transactions(&self) -> i64 {
        self.count(&format!("SELECT count(*) FROM transactions WHERE bot_trade_id = '{}'", self.trade_id)).await
    }

    /// Sends the write while the test holds the trade's row lock (the ledger's write locks
    /// the trade first, so it waits), releases the lock once the client has its answer, and
    /// waits until the ledger's transaction has ended.
    async fn add_transactions_while_locked(&self, idempotency_key: Option<&str>) -> (u16, Value) {
        let mut lock: AsyncPgConnection = self.system.db(ServiceName::TradeLedger).connect().await;
        diesel::sql_query("BEGIN").execute(&mut lock).await.unwrap();
        diesel::sql_query(format!("SELECT id FROM bot_trades WHERE id = '{}' FOR UPDATE", self.trade_id))
            .execute(&mut lock)
            .await
            .unwrap();
        let answer = self.add_transactions(idempotency_key).await;
        diesel::sql_query("COMMIT").execute(&mut lock).await.unwrap();
        // The ledger holds a lock on `bot_trades` from its `FOR UPDATE` (taken before it
        // blocked) until its transaction ends, whether it commits or rolls back.
        let others_on_trades = "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation \
                                WHERE c.relname = 'bot_trades' AND l.pid <> pg_backend_pid()";
        test_support::eventually("the ledger's transaction ends", Duration::from_secs(10), || async {
            (self.count(others_on_trades).await == 0).then_some(())
        })
        .await;
        answer
    }
}

fn assert_timed_out((status, body): &(u16, Value)) {
    assert_eq!(*status, 504, "{body}");
    assert_eq!(
        *body,
        json!({"error": "Request timed out; retry with the same Idempotency-Key", "code": "GATEWAY_TIMEOUT"})
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_write_that_times_out_is_not_written_and_its_retry_runs_once() {
    let scene = Scene::start().await;

    // Without a key: the client cannot tell a repeat from a new write, so nothing may land.
    assert_timed_out(&scene.add_transactions_while_locked(None).await);
    assert_eq!(scene.transactions().await, 0, "rolled back at the deadline");

    // With a key: the same, and no stored reply either.
    assert_timed_out(&scene.add_transactions_while_locked(Some("retry-1")).await);
    assert_eq!(scene.transactions().await, 0);
    assert_eq!(scene.count("SELECT count(*) FROM idempotency_records").await, 0);

    // The retry with the same key runs now, once; a repeat replays it.
    let (status, first) = scene.add_transactions(Some("retry-1")).await;
    assert_eq!(status, 200, "{first}");
    assert_eq!(first["transactionsAdded"], 2, "{first}");
    assert_eq!(scene.transactions().await, 2);
    let (status, again) = scene.add_transactions(Some("retry-1")).await;
    assert_eq!((status, &again), (200, &first));
    assert_eq!(scene.transactions().await, 2);
}
