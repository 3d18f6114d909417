//! One runner under test: its own database and subject prefix, helpers to publish what the
//! ledger would and to read the runs.

use async_nats::jetstream;
use bus::Topic;
use bus::messages::hosted::{Desired, HostedBotChanged, MarketSpecMsg};
use bus::messages::market::{MarketSymbol, QuoteMsg};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use domain::{BotId, EventId, PartnerId, ServiceName, UserId};
use live_session_runner::settings::Settings;
use live_session_runner::store::runs::{self, HostedRun};
use live_session_runner::{App, MIGRATIONS};
use outbox::schema::processed_messages;
use rust_decimal::Decimal;
use serde::Serialize;
use serde_json::value::RawValue;
use std::path::Path;
use std::time::Duration;
use test_support::{TestDb, TestNats, backend_settings};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// How long a test waits for the runner to catch up.
pub const PATIENCE: Duration = Duration::from_secs(20);

pub struct Harness {
    pub db: TestDb,
    pub nats: TestNats,
    pub js: jetstream::Context,
    running: Option<(CancellationToken, JoinHandle<()>)>,
}

impl Harness {
    /// A database and a prefix, the runner not started yet (to seed its runs first).
    pub async fn new() -> Self {
        test_support::init_logging();
        let db = TestDb::new(
            ServiceName::LiveSessionRunner.context(),
            MIGRATIONS,
            &Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations"),
        )
        .await;
        let nats = TestNats::new();
        let js = jetstream::new(nats.client().await);
        Self { db, nats, js, running: None }
    }

    /// A running runner with default settings.
    pub async fn started() -> Self {
        let mut harness = Self::new().await;
        harness.start(|_| {}).await;
        harness
    }

    /// Starts the runner with its settings changed by `tweak`.
    pub async fn start(&mut self, tweak: impl FnOnce(&mut Settings)) {
        let mut settings = Settings::with_backend(backend_settings(&self.db, &self.nats));
        tweak(&mut settings);
        let app = App::build(settings).await.expect("the runner starts");
        let shutdown = CancellationToken::new();
        self.running = Some((shutdown.clone(), tokio::spawn(app.run_until_stopped(shutdown))));
    }

    /// Stops the runner gracefully and waits until it has (its runs checkpointed and given
    /// back).
    pub async fn stop(&mut self) {
        if let Some((shutdown, task)) = self.running.take() {
            shutdown.cancel();
            task.await.expect("the runner stops");
        }
    }

    /// Publishes a quote on `SIM_BTC_USDT_`, stamped now, as the market feed would.
    pub async fn quote(&self, last: i64) {
        let symbol = MarketSymbol::new("SIM_BTC_USDT_").unwrap();
        let time_ms = chrono::Utc::now().timestamp_millis();
        let (last, spread) = (Decimal::from(last), Decimal::new(50, 2));
        let quote = QuoteMsg::new(symbol.clone(), time_ms, last - spread, last + spread, last).unwrap();
        let client = self.nats.client().await;
        let subject = self.nats.subjects().quote(&symbol).subject().to_string();
        client.publish(subject, serde_json::to_vec(&quote).unwrap().into()).await.unwrap();
        client.flush().await.unwrap();
    }

    /// Publishes `changed` as the ledger's relay would: in its envelope, on the ledger's
    /// stream, with message id `<event id>[.n]`.
    pub async fn publish(&self, event_id: EventId, changed: &HostedBotChanged, republish: u32) {
        self.publish_on(&self.nats.subjects().hosted_bot_changed(), event_id, changed, republish).await;
    }

    async fn publish_on<T: Serialize>(&self, topic: &Topic<T>, event_id: EventId, data: &T, republish: u32) {
        test_support::publish_event(&self.js, topic, event_id, data, republish).await;
    }

    /// The run of `bot`, if any.
    pub async fn run(&self, bot: BotId) -> Option<HostedRun> {
        let mut connection = self.db.connect().await;
        runs::find_hosted(&mut connection, bot).await.unwrap()
    }

    /// Waits until the run of `bot` holds `revision`; returns it.
    pub async fn wait_revision(&self, bot: BotId, revision: i64) -> HostedRun {
        test_support::eventually(&format!("bot {bot} at revision {revision}"), PATIENCE, || async {
            self.run(bot).await.filter(|run| run.revision == revision)
        })
        .await
    }

    /// Waits until the consumer has applied event `id` (its inbox row committed).
    pub async fn wait_processed(&self, id: EventId) {
        test_support::eventually(&format!("event {id} processed"), PATIENCE, || async {
            let mut connection = self.db.connect().await;
            let rows: i64 = processed_messages::table
                .filter(processed_messages::event_id.eq(id))
                .count()
                .get_result(&mut connection)
                .await
                .unwrap();
            (rows == 1).then_some(())
        })
        .await;
    }

    /// Writes `changed` into the runs directly (the newer-revision rule applies).
    pub async fn seed(&self, changed: &HostedBotChanged) -> bool {
        let mut connection = self.db.connect().await;
        runs::upsert_hosted(&mut connection, changed).await.unwrap()
    }
}

impl Drop for Harness {
    fn drop(&mut self) {
        if let Some((shutdown, _)) = self.running.take() {
            shutdown.cancel();
        }
    }
}

/// One partner for every test bot.
pub fn partner() -> PartnerId {
    "00000000-0000-0000-0000-000000000007".parse().unwrap()
}

/// A spot grid on `SIM_BTC_USDT_` at `revision`, with `upperLimit` = `upper` (so that each
/// revision can carry different settings).
pub fn grid(bot: BotId, user: UserId, revision: i64, desired: Desired, upper: &str) -> HostedBotChanged {
    let settings = format!(
        r#"{{"symbol":"SIM_BTC_USDT_","lowerLimit":28000,"upperLimit":{upper},"gridCount":30,"investmentAmount":9900.125}}"#
    );
    HostedBotChanged {
        bot_id: bot,
        partner_id: partner(),
        user_id: user,
        revision,
        desired,
        script_type: "spot_grid".into(),
        settings: RawValue::from_string(settings).unwrap(),
        market: MarketSpecMsg {
            symbol: "SIM_BTC_USDT_".into(),
            base_currency: "BTC".into(),
            quote_currency: "USDT".into(),
            price_decimals: 2,
            amount_decimals: 5,
            minimum_trade_amount: Decimal::new(1, 5),
        },
        exchange_id: "SIM".into(),
    }
}
