//! The runner's events in the ledger (docs/live.md#fills-become-ledger-trades, "Stops the
//! engine decides"): fills become one bot trade per position with a filled transaction per
//! fill, the bot's profit and roi follow the newest `seq`, each event applies once, and the
//! engine's stop stops the bot only at the revision the runner saw.
//!
//! Each test runs the ledger on its own database and subject prefix, makes its hosted bots
//! with the ledger's own usecases, and publishes the runner's events as the runner's relay
//! would (on `<p>_live_events`, message id `<event id>[.n]`).

use async_nats::jetstream;
use bus::Topic;
use bus::messages::hosted::{CreateHostedBot, Desired, SetHostedBotStatus};
use bus::messages::live::{BotStopped, BotTotals, FillMsg, FillRecorded, FilledPosition};
use bus::messages::partner::CreatePartnerUser;
use diesel::QueryableByName;
use diesel::sql_types::{BigInt, Numeric, Text};
use diesel_async::{AsyncConnection, RunQueryDsl};
use domain::{BotId, BrokerAccountId, EventId, PartnerId, ServiceName, UserId};
use outbox::consumer::Delivery;
use rust_decimal::Decimal;
use rust_decimal::dec;
use serde::Serialize;
use serde_json::Value;
use serde_json::value::RawValue;
use std::path::Path;
use std::time::Duration;
use test_support::{TestDb, TestNats, backend_settings};
use tokio_util::sync::CancellationToken;
use trade_ledger::admin::{self, AdminCommand};
use trade_ledger::usecase::hosted_bots::{self, writes};
use trade_ledger::usecase::{live_events, partner_users};
use trade_ledger::{App, MIGRATIONS, Settings};

/// How long a test waits for the consumer.
const PATIENCE: Duration = Duration::from_secs(20);

/// The grid's level and the next one up (USDT), its amount (BTC) and the fee rate (0.1 %).
const LEVEL: Decimal = dec!(29000);
const NEXT_LEVEL: Decimal = dec!(29500);
const AMOUNT: Decimal = dec!(0.01137);
const FEE_RATE: Decimal = dec!(0.001);
/// When the entry filled (Unix seconds).
const OPENED_AT: i64 = 1_790_000_000;

/// One ledger under test (`signal_bots` uses it too).
pub(crate) struct Ledger {
    pub(crate) db: TestDb,
    pub(crate) nats: TestNats,
    js: jetstream::Context,
    shutdown: CancellationToken,
}

impl Drop for Ledger {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

#[derive(QueryableByName, Debug, PartialEq)]
struct BotRow {
    #[diesel(sql_type = Text)]
    status: String,
    #[diesel(sql_type = BigInt)]
    revision: i64,
    #[diesel(sql_type = Numeric)]
    profit: Decimal,
    #[diesel(sql_type = Numeric)]
    roi: Decimal,
    #[diesel(sql_type = BigInt)]
    perf_seq: i64,
}

#[derive(QueryableByName, Debug, PartialEq)]
struct ChangedRow {
    #[diesel(sql_type = BigInt)]
    revision: i64,
    #[diesel(sql_type = Text)]
    desired: String,
}

impl Ledger {
    pub(crate) async fn started() -> Self {
        test_support::init_logging();
        let migrations_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
        let db = TestDb::new(ServiceName::TradeLedger.context(), MIGRATIONS, &migrations_dir).await;
        let nats = TestNats::new();
        let js = jetstream::new(nats.client().await);
        let app = App::build(Settings::with_backend(backend_settings(&db, &nats))).await.expect("the ledger starts");
        let shutdown = CancellationToken::new();
        tokio::spawn(app.run_until_stopped(shutdown.clone()));
        Self { db, nats, js, shutdown }
    }

    /// A partner, one of its users on `SIM` and a running spot grid of theirs (revision 1),
    /// made as the Partner API makes them.
    async fn hosted_bot(&self) -> (PartnerId, BotId) {
        let (partner, user) = self.partner_with_user("Live").await;
        let settings =
            r#"{"symbol":"SIM_BTC_USDT_","lowerLimit":28000,"upperLimit":32000,"gridCount":8,"investmentAmount":9900}"#;
        (partner, self.bot(partner, user, "spot_grid", settings).await)
    }

    /// A partner and one of its paper users on `SIM`, made as the Partner API makes them.
    pub(crate) async fn partner_with_user(&self, name: &str) -> (PartnerId, UserId) {
        let created = admin::run(self.db.url(), AdminCommand::CreatePartner { name: name.into() }).await.unwrap();
        let partner: PartnerId = serde_json::from_value(created["partnerId"].clone()).unwrap();
        let mut connection = self.db.connect().await;
        let user = CreatePartnerUser {
            partner_id: partner,
            exchange_id: "SIM".into(),
            exchange_user_id: None,
            broker_account_id: BrokerAccountId::new(),
            paper: true,
        };
        let user = connection.transaction::<_, anyhow::Error, _>(async |tx| Ok(partner_users::create(tx, user).await?));
        (partner, user.await.unwrap())
    }

    /// A running hosted bot of the user, made as `bots/create` makes it.
    pub(crate) async fn bot(&self, partner: PartnerId, user: UserId, script_type: &str, settings: &str) -> BotId {
        let subjects = self.nats.subjects();
        let mut connection = self.db.connect().await;
        let request = CreateHostedBot {
            partner_id: partner,
            user_id: user,
            script_type: script_type.into(),
            settings: RawValue::from_string(settings.into()).unwrap(),
            master_bot_id: None,
        };
        let created = connection
            .transaction::<_, anyhow::Error, _>(async |tx| Ok(writes::create(tx, &subjects, request).await?))
            .await
            .unwrap();
        hosted_bots::parse_bot_id(&created.bot_id).unwrap()
    }

    /// A partner's `bots/start` or `bots/stop`.
    async fn set_status(&self, partner: PartnerId, bot: BotId, desired: Desired) {
        let subjects = self.nats.subjects();
        let request = SetHostedBotStatus { partner_id: partner, bot_id: hosted_bots::wire_id(bot), desired };
        let mut connection = self.db.connect().await;
        connection
            .transaction::<_, anyhow::Error, _>(async |tx| Ok(writes::set_status(tx, &subjects, request).await?))
            .await
            .unwrap();
    }

    async fn publish<T: Serialize>(&self, topic: &Topic<T>, event_id: EventId, data: &T, republish: u32) {
        test_support::publish_event(&self.js, topic, event_id, data, republish).await;
    }

    async fn publish_fill(&self, event_id: EventId, fill: &FillRecorded) {
        self.publish(&self.nats.subjects().fill_recorded(), event_id, fill, 0).await;
    }

    async fn processed(&self, id: EventId) -> bool {
        #[derive(QueryableByName)]
        struct Count {
            #[diesel(sql_type = BigInt)]
            count: i64,
        }
        let row: Count = diesel::sql_query(format!(
            "SELECT count(*) AS count FROM processed_messages WHERE consumer = '{}' AND event_id = '{id}'",
            live_events::CONSUMER
        ))
        .get_result(&mut self.db.connect().await)
        .await
        .unwrap();
        row.count == 1
    }

    /// Waits until the consumer has applied event `id` (its inbox row committed).
    async fn wait_processed(&self, id: EventId) {
        test_support::eventually(&format!("event {id} applied"), PATIENCE, || async {
            self.processed(id).await.then_some(())
        })
        .await;
    }

    async fn bot_row(&self, bot: BotId) -> BotRow {
        diesel::sql_query(format!("SELECT status, revision, profit, roi, perf_seq FROM bots WHERE id = '{bot}'"))
            .get_result(&mut self.db.connect().await)
            .await
            .unwrap()
    }

    /// The bot's `hosted_bot_changed` events in the outbox, oldest first.
    async fn changes(&self, bot: BotId) -> Vec<ChangedRow> {
        diesel::sql_query(format!(
            "SELECT (payload->'data'->>'revision')::bigint AS revision, payload->'data'->>'desired' AS desired \
             FROM outbox WHERE subject = '{}' AND payload->'data'->>'botId' = '{bot}' ORDER BY seq",
            self.nats.subjects().hosted_bot_changed().subject()
        ))
        .load(&mut self.db.connect().await)
        .await
        .unwrap()
    }

    /// What `trade-ledger admin bot-trades --bot <id>` prints: the trades, newest first.
    async fn trades(&self, bot: BotId) -> Vec<Value> {
        let printed =
            admin::run(self.db.url(), AdminCommand::BotTrades { bot: hosted_bots::wire_id(bot) }).await.unwrap();
        printed["trades"].as_array().unwrap().clone()
    }

    fn pool(&self) -> platform::db::PgPool {
        let settings = platform::settings::DatabaseSettings {
            url: self.db.url().to_string(),
            ..platform::settings::DatabaseSettings::local("x")
        };
        platform::db::pool(&settings).unwrap()
    }
}

fn fee(price: Decimal) -> Decimal {
    price * AMOUNT * FEE_RATE
}

/// The grid level's buy filling into a new LONG position `position`.
fn entry(bot: BotId, seq: i64, position: &str, totals: (Decimal, Decimal)) -> FillRecorded {
    FillRecorded {
        bot_id: bot,
        session_id: None,
        seq,
        position: FilledPosition {
            id: position.into(),
            direction: "LONG".into(),
            symbol: "SIM_BTC_USDT_".into(),
            opened_at: OPENED_AT,
            closed: false,
            gross_profit: Decimal::ZERO,
            fees: fee(LEVEL),
        },
        fill: FillMsg {
            order_id: format!("{:032x}", seq),
            entry: true,
            side: "BUY".into(),
            order_type: "Limit".into(),
            role: "gridBuy".into(),
            note: "Grid buy #3".into(),
            quantity: AMOUNT,
            price: LEVEL,
            fee: fee(LEVEL),
            fee_currency: "USDT".into(),
            time: OPENED_AT,
        },
        bot_totals: BotTotals { profit: totals.0, roi: totals.1 },
    }
}

/// The next level's sell closing `position` a minute later.
fn exit(bot: BotId, seq: i64, position: &str, totals: (Decimal, Decimal)) -> FillRecorded {
    let mut fill = entry(bot, seq, position, totals);
    fill.position.closed = true;
    fill.position.gross_profit = (NEXT_LEVEL - LEVEL) * AMOUNT;
    fill.position.fees = fee(LEVEL) + fee(NEXT_LEVEL);
    fill.fill = FillMsg {
        entry: false,
        side: "SELL".into(),
        role: "gridSell".into(),
        note: "Grid sell #4".into(),
        price: NEXT_LEVEL,
        fee: fee(NEXT_LEVEL),
        time: OPENED_AT + 60,
        ..fill.fill
    };
    fill
}

fn decimal(value: &Value) -> Decimal {
    value.as_str().unwrap_or_else(|| panic!("{value} is a decimal string")).parse().unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_grid_round_trip_is_one_closed_trade_with_two_filled_transactions() {
    let ledger = Ledger::started().await;
    let (_, bot) = ledger.hosted_bot().await;
    let position = "0123456789abcdef0123456789abcdef";
    let gross = (NEXT_LEVEL - LEVEL) * AMOUNT;
    let fees = fee(LEVEL) + fee(NEXT_LEVEL);
    let profit = gross - fees;
    let roi = profit / dec!(9900) * dec!(100);
    let (first, second) = (EventId::new(), EventId::new());
    ledger.publish_fill(first, &entry(bot, 1, position, (-fee(LEVEL), dec!(-0.0033)))).await;
    ledger.wait_processed(first).await;

    let trades = ledger.trades(bot).await;
    assert_eq!(trades.len(), 1);
    assert_eq!((trades[0]["status"].as_str(), trades[0]["netPnl"].clone()), (Some("open"), Value::Null));

    ledger.publish_fill(second, &exit(bot, 2, position, (profit, roi))).await;
    ledger.wait_processed(second).await;

    let trades = ledger.trades(bot).await;
    assert_eq!(trades.len(), 1, "one position, one trade: {trades:#?}");
    let trade = &trades[0];
    assert_eq!(trade["status"], "closed");
    assert_eq!(trade["tradeType"], "long");
    assert_eq!(trade["symbol"], "SIM_BTC_USDT_");
    assert_eq!(decimal(&trade["netPnl"]), dec!(5.019855), "gross 5.685 less fees 0.32973 + 0.335415");
    assert_eq!(trade["netPnl"], profit.to_string(), "exactly, at the event's own scale");
    assert_eq!(trade["metadata"], serde_json::json!({"source": "hosted", "positionId": position, "sessionId": null}));
    let at = |secs: i64| {
        let time = chrono::DateTime::from_timestamp(secs, 0).unwrap();
        Value::from(time.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
    };
    assert_eq!(trade["signalAt"], at(OPENED_AT), "the position's open time");
    assert_eq!(trade["openedAt"], at(OPENED_AT), "its first entry's fill");
    assert_eq!(trade["closedAt"], at(OPENED_AT + 60), "its last exit's fill");

    let transactions = trade["transactions"].as_array().unwrap();
    assert_eq!(transactions.len(), 2);
    let (buy, sell) = (&transactions[0], &transactions[1]);
    for (transaction, group, exit_type, side, price, fee, role, note) in [
        (buy, "entry", Value::Null, "buy", LEVEL, fee(LEVEL), "gridBuy", "Grid buy #3"),
        (sell, "exit", Value::from("take_profit"), "sell", NEXT_LEVEL, fee(NEXT_LEVEL), "gridSell", "Grid sell #4"),
    ] {
        assert_eq!(transaction["transactionGroup"], group);
        assert_eq!(transaction["exitType"], exit_type);
        assert_eq!((transaction["side"].as_str(), transaction["type"].as_str()), (Some(side), Some("limit")));
        assert_eq!(transaction["status"], "filled");
        assert_eq!(transaction["assetType"], "crypto");
        assert_eq!(transaction["broker"], "SIM");
        assert_eq!(transaction["notes"], note);
        for field in ["price", "filledPrice", "avgFillPrice"] {
            assert_eq!(decimal(&transaction[field]), price, "{field}");
        }
        assert_eq!(decimal(&transaction["filledQuantity"]), AMOUNT);
        assert_eq!(transaction["metadata"]["role"], role);
        assert_eq!(transaction["metadata"]["feeCurrency"], "USDT");
        assert_eq!(decimal(&transaction["metadata"]["fee"]), fee);
    }
    assert_eq!(buy["brokerOrderId"], format!("{:032x}", 1));
    assert_eq!(sell["brokerOrderId"], format!("{:032x}", 2));

    let row = ledger.bot_row(bot).await;
    assert_eq!((row.profit, row.roi, row.perf_seq), (profit, roi, 2));
    assert_eq!((row.status.as_str(), row.revision), ("running", 1), "fills change no definition");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_older_seq_leaves_the_bots_profit_and_roi_alone() {
    let ledger = Ledger::started().await;
    let (_, bot) = ledger.hosted_bot().await;
    let (newer, older) = (EventId::new(), EventId::new());
    ledger.publish_fill(newer, &exit(bot, 7, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", (dec!(10.5), dec!(0.106)))).await;
    ledger.publish_fill(older, &entry(bot, 6, "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb", (dec!(1.25), dec!(0.0126)))).await;
    ledger.wait_processed(newer).await;
    ledger.wait_processed(older).await;

    let row = ledger.bot_row(bot).await;
    assert_eq!((row.profit, row.roi, row.perf_seq), (dec!(10.5), dec!(0.106), 7));
    assert_eq!(ledger.trades(bot).await.len(), 2, "the older fill is still recorded");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_redelivered_or_republished_fill_applies_once() {
    let ledger = Ledger::started().await;
    let (_, bot) = ledger.hosted_bot().await;
    let position = "cccccccccccccccccccccccccccccccc";
    let id = EventId::new();
    let fill = entry(bot, 1, position, (Decimal::ZERO, Decimal::ZERO));
    ledger.publish_fill(id, &fill).await;
    ledger.wait_processed(id).await;
    // The relay re-publishes it after a crash (a fresh message id, the same event id)...
    ledger.publish(&ledger.nats.subjects().fill_recorded(), id, &fill, 1).await;
    // ... and the consumer gets it again after its commit, its ack lost.
    let topic = ledger.nats.subjects().fill_recorded();
    let event =
        bus::Event { id, event_type: topic.event_type().to_string(), occurred_at: chrono::Utc::now(), data: &fill };
    let delivery =
        || Delivery { subject: topic.subject().to_string(), payload: serde_json::to_vec(&event).unwrap().into() };
    live_events::apply(&ledger.pool(), &ledger.nats.subjects(), vec![delivery(), delivery()]).await.unwrap();
    // A later event, applied after the re-published one, shows the consumer is past it.
    let later = EventId::new();
    ledger.publish_fill(later, &exit(bot, 2, position, (dec!(1), dec!(0.01)))).await;
    ledger.wait_processed(later).await;

    let trades = ledger.trades(bot).await;
    assert_eq!(trades.len(), 1);
    let groups: Vec<_> =
        trades[0]["transactions"].as_array().unwrap().iter().map(|t| t["transactionGroup"].clone()).collect();
    assert_eq!(groups, ["entry", "exit"], "the entry once");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_fill_of_a_bot_the_ledger_does_not_host_is_skipped_and_later_events_apply() {
    let ledger = Ledger::started().await;
    let (_, bot) = ledger.hosted_bot().await;
    let external = admin::run(
        ledger.db.url(),
        AdminCommand::CreateBot { slug: "external-bot".into(), name: "External".into(), owner: None },
    )
    .await
    .unwrap();
    let external: BotId = serde_json::from_value(external["botId"].clone()).unwrap();
    let (unknown, not_hosted, later) = (EventId::new(), EventId::new(), EventId::new());
    let position = "dddddddddddddddddddddddddddddddd";
    ledger.publish_fill(unknown, &entry(BotId::new(), 1, position, (dec!(1), dec!(1)))).await;
    ledger.publish_fill(not_hosted, &entry(external, 1, position, (dec!(1), dec!(1)))).await;
    ledger.publish_fill(later, &entry(bot, 1, position, (dec!(-0.5), dec!(-0.005)))).await;
    ledger.wait_processed(later).await;

    assert!(ledger.processed(unknown).await && ledger.processed(not_hosted).await, "skipped, and done with");
    assert_eq!(ledger.trades(external).await.len(), 0);
    assert_eq!(ledger.trades(bot).await.len(), 1);
    assert_eq!(ledger.bot_row(bot).await.profit, dec!(-0.5));
}

#[tokio::test(flavor = "multi_thread")]
async fn the_engines_stop_at_the_revision_it_saw_stops_the_bot_like_a_partners_stop() {
    let ledger = Ledger::started().await;
    let (_, bot) = ledger.hosted_bot().await;
    let stop = BotStopped { bot_id: bot, revision: 1, reason: "Price stop condition met".into() };
    let id = EventId::new();
    ledger.publish(&ledger.nats.subjects().bot_stopped(), id, &stop, 0).await;
    ledger.wait_processed(id).await;

    let row = ledger.bot_row(bot).await;
    assert_eq!((row.status.as_str(), row.revision), ("stopped", 2));
    let changes = ledger.changes(bot).await;
    assert_eq!(
        changes,
        [ChangedRow { revision: 1, desired: "running".into() }, ChangedRow { revision: 2, desired: "stopped".into() }]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_engines_stop_of_a_bot_changed_since_or_already_stopped_changes_nothing() {
    let ledger = Ledger::started().await;
    let (partner, bot) = ledger.hosted_bot().await;
    // The partner stops and starts it again meanwhile: revision 3, running.
    ledger.set_status(partner, bot, Desired::Stopped).await;
    ledger.set_status(partner, bot, Desired::Running).await;
    let stale = EventId::new();
    let stop = BotStopped { bot_id: bot, revision: 1, reason: "Price stop condition met".into() };
    ledger.publish(&ledger.nats.subjects().bot_stopped(), stale, &stop, 0).await;
    ledger.wait_processed(stale).await;
    assert_eq!(ledger.bot_row(bot).await.status, "running");
    assert_eq!(ledger.bot_row(bot).await.revision, 3);
    assert_eq!(ledger.changes(bot).await.len(), 3, "no event of its own");

    // Stopped by the partner at revision 4: the engine's stop at 4 has nothing left to do.
    ledger.set_status(partner, bot, Desired::Stopped).await;
    let late = EventId::new();
    let stop = BotStopped { bot_id: bot, revision: 4, reason: "maxLoss reached".into() };
    ledger.publish(&ledger.nats.subjects().bot_stopped(), late, &stop, 0).await;
    ledger.wait_processed(late).await;
    let row = ledger.bot_row(bot).await;
    assert_eq!((row.status.as_str(), row.revision), ("stopped", 4));
    assert_eq!(ledger.changes(bot).await.len(), 4);
}
