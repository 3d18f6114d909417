//! The registry of every subject on the bus, and its rendering into `proto/`.
//!
//! [`catalogue`] lists each subject with its message, reply, producer, consumers and stream by
//! calling the same [`Subjects`] builders the services call, and each durable consumer from
//! its one definition in [`crate::consumers`], so the documentation cannot name a subject or a
//! consumer the code does not use. [`render`] turns it into the files of `proto/`:
//! `README.md` (the human-readable tables), `catalogue.json`, `consumers.json`, and
//! `schemas/<Type>.json`, the JSON Schema of each message body as it travels (events inside
//! their envelope, replies inside `{"ok"} | {"error"}`, quotes as they are).

use crate::consumers;
use crate::envelope::Event;
use crate::error::Reply;
use crate::permissions::MARKET_FEED_USER;
use crate::subjects::{self, Endpoint, EventName, Kind, MarketData, Subjects, Topic};
use domain::ServiceName;
use schemars::JsonSchema;
use std::collections::BTreeMap;

mod entries;
mod render;

pub use entries::{ConsumerEntry, SubjectEntry};
pub use render::render;

/// The registry: every subject, every durable consumer and the schema of every body.
#[derive(Debug, Default)]
pub struct Catalogue {
    /// Subjects, in declaration order.
    pub subjects: Vec<SubjectEntry>,
    /// Durable JetStream consumers, as [`consumers::ALL`] lists them.
    pub consumers: Vec<ConsumerEntry>,
    /// Schema name → JSON Schema of the body.
    pub schemas: BTreeMap<String, serde_json::Value>,
}

impl Catalogue {
    fn schema<T: JsonSchema>(&mut self, name: &str) -> String {
        let schema = schemars::schema_for!(T);
        self.schemas.insert(name.to_string(), schema.to_value());
        format!("schemas/{name}.json")
    }

    fn endpoint<Req: JsonSchema, Resp: JsonSchema>(
        &mut self,
        endpoint: &Endpoint<Req, Resp>,
        kind: Kind,
        caller: &str,
        names: (&str, &str),
        description: &'static str,
    ) {
        let message = self.schema::<Req>(names.0);
        let reply = self.schema::<Reply<Resp>>(names.1);
        self.subjects.push(SubjectEntry {
            subject: endpoint.subject().to_string(),
            kind: kind.token(),
            message,
            reply: Some(reply),
            producer: caller.to_string(),
            consumers: vec![endpoint.service().to_string()],
            stream: None,
            description,
        });
    }

    /// An event subject; its consumers are the services whose durable consumers read it.
    fn topic<T: JsonSchema>(
        &mut self,
        subjects: &Subjects,
        topic: &Topic<T>,
        event: EventName,
        name: &str,
        description: &'static str,
    ) {
        let message = self.schema::<Event<T>>(name);
        let mut readers: Vec<ServiceName> = consumers::reading(event).map(|def| def.consumer).collect();
        readers.dedup();
        self.subjects.push(SubjectEntry {
            subject: topic.subject().to_string(),
            kind: Kind::Event.token(),
            message,
            reply: None,
            producer: topic.producer().to_string(),
            consumers: readers.iter().map(ToString::to_string).collect(),
            stream: Some(subjects.stream_name(topic.producer())),
            description,
        });
    }

    fn market_data<T: JsonSchema>(
        &mut self,
        market_data: &MarketData<T>,
        producer: &str,
        consumers: &[ServiceName],
        name: &str,
        description: &'static str,
    ) {
        let message = self.schema::<T>(name);
        self.subjects.push(SubjectEntry {
            subject: market_data.subject().to_string(),
            kind: Kind::MarketData.token(),
            message,
            reply: None,
            producer: producer.to_string(),
            consumers: consumers.iter().map(ToString::to_string).collect(),
            stream: None,
            description,
        });
    }
}

/// Every subject on the bus, with `{prefix}` in place of the configured prefix.
pub fn catalogue() -> Catalogue {
    let subjects = Subjects::placeholder();
    let mut catalogue = Catalogue::default();
    for service in ServiceName::ALL {
        catalogue.endpoint(
            &subjects.ping(service),
            Kind::Query,
            "gateway",
            ("PingRequest", "PingReply"),
            "Is the service able to serve? Answered only while the service's database is reachable.",
        );
    }
    catalogue.endpoint(
        &subjects.authenticate(),
        Kind::Query,
        "gateway",
        ("Credential", "Principal"),
        "Who a bot key, partner key or user token belongs to (bot: 404 unknown slug, 403 wrong key).",
    );
    catalogue.endpoint(
        &subjects.bot_config(),
        Kind::Query,
        "gateway",
        ("GetBotConfig", "BotConfigReply"),
        "A bot's configuration: followers and stored states (GET /api/bots/:slug).",
    );
    catalogue.endpoint(
        &subjects.create_participations(),
        Kind::Command,
        "gateway",
        ("CreateParticipations", "ParticipationsReply"),
        "Reference 000: link bot trades to user broker accounts; each new one writes an outbox event.",
    );
    catalogue.endpoint(
        &subjects.upsert_states(),
        Kind::Command,
        "gateway",
        ("UpsertStates", "StatesReply"),
        "Reference 002: bulk upsert of per (account, ticker) bot state.",
    );
    catalogue.endpoint(
        &subjects.bot_states(),
        Kind::Query,
        "gateway",
        ("GetStates", "StatesListReply"),
        "A bot's stored states, optionally for one account and/or ticker.",
    );
    catalogue.endpoint(
        &subjects.create_trade(),
        Kind::Command,
        "gateway",
        ("CreateTrade", "TradeReply"),
        "Create a trade with its entry transactions (POST /api/bots/:slug/trades).",
    );
    catalogue.endpoint(
        &subjects.list_trades(),
        Kind::Query,
        "gateway",
        ("ListTrades", "TradesPage"),
        "A bot's trades, newest first, cursor-paged (GET /api/bots/:slug/trades).",
    );
    catalogue.endpoint(
        &subjects.get_trade(),
        Kind::Query,
        "gateway",
        ("GetTrade", "TradeReply"),
        "One trade with its transactions and participations.",
    );
    catalogue.endpoint(
        &subjects.update_trade(),
        Kind::Command,
        "gateway",
        ("UpdateTrade", "TradeReply"),
        "Update a trade's status, closedAt, netPnl, error fields or metadata.",
    );
    catalogue.endpoint(
        &subjects.add_transactions(),
        Kind::Command,
        "gateway",
        ("AddTransactions", "TransactionsAddedReply"),
        "Reference 001: add transactions to a trade; its status is recomputed.",
    );
    catalogue.endpoint(
        &subjects.update_transaction(),
        Kind::Command,
        "gateway",
        ("UpdateTransaction", "TransactionUpdatedReply"),
        "Update one transaction; the trade's status is recomputed.",
    );
    catalogue.endpoint(
        &subjects.trade_participations(),
        Kind::Query,
        "gateway",
        ("GetTrade", "ParticipationsList"),
        "A trade's participations with their broker order details, paged.",
    );
    catalogue.endpoint(
        &subjects.trade_transactions(),
        Kind::Query,
        "gateway",
        ("ListTransactions", "TransactionsPage"),
        "A page of a trade's transactions, oldest first (GET /api/bots/:slug/trades/:tradeId/transactions).",
    );
    catalogue.endpoint(
        &subjects.partner_user(),
        Kind::Query,
        "gateway",
        ("GetPartnerUser", "PartnerUser"),
        "One of a partner's users with the exchanges of their accounts (another partner's user: not found).",
    );
    catalogue.endpoint(
        &subjects.partner_users(),
        Kind::Query,
        "gateway",
        ("ListPartnerUsers", "PartnerUsersPage"),
        "A page of a partner's users, newest first (at most `limit` users and about 256 KiB).",
    );
    catalogue.endpoint(
        &subjects.create_partner_user(),
        Kind::Command,
        "gateway",
        ("CreatePartnerUser", "CreatePartnerUserReply"),
        "Create a partner's user and its broker account (credentials already sealed in the fetcher); answers the user id.",
    );
    catalogue.endpoint(
        &subjects.delete_partner_user(),
        Kind::Command,
        "gateway",
        ("DeletePartnerUser", "DeletePartnerUserReply"),
        "Soft-delete a partner's user and emit user_deleted so the fetcher erases the credentials.",
    );
    catalogue.endpoint(
        &subjects.exchanges(),
        Kind::Query,
        "gateway",
        ("ListExchanges", "Exchanges"),
        "The enabled exchanges of the market catalogue.",
    );
    catalogue.endpoint(
        &subjects.markets(),
        Kind::Query,
        "gateway",
        ("ListMarkets", "Markets"),
        "The markets of the enabled exchanges, each with isOpen from its exchange's calendar now.",
    );
    catalogue.endpoint(
        &subjects.store_exchange_credentials(),
        Kind::Command,
        "gateway",
        ("StoreExchangeCredentials", "StoreExchangeCredentialsReply"),
        "Seal a partner user's exchange API keys under their broker account (replaces what is stored).",
    );
    catalogue.endpoint(
        &subjects.hosted_bots(),
        Kind::Query,
        "gateway",
        ("ListHostedBots", "HostedBotsPage"),
        "A page of a partner's (or one user's) hosted bots, newest first (at most `limit` and about 256 KiB).",
    );
    catalogue.endpoint(
        &subjects.hosted_bot(),
        Kind::Query,
        "gateway",
        ("GetHostedBot", "HostedBotView"),
        "One of a partner's hosted bots (with a user: that user's; the user is checked first).",
    );
    catalogue.endpoint(
        &subjects.hosted_bot_revisions(),
        Kind::Query,
        "live-session-runner",
        ("ListHostedBotRevisions", "HostedBotRevisionsPage"),
        "Every live hosted bot's current revision, by bot id: what the runner reconciles against.",
    );
    catalogue.endpoint(
        &subjects.hosted_bot_definitions(),
        Kind::Query,
        "live-session-runner",
        ("GetHostedBotDefinitions", "HostedBotDefinitions"),
        "The current definitions of some hosted bots (deleted ones as desired: deleted), as hosted_bot_changed carries them.",
    );
    catalogue.endpoint(
        &subjects.bot_orders(),
        Kind::Query,
        "gateway",
        ("GetBotOrders", "BotOrders"),
        "A hosted bot's open orders, oldest first (not found: the runner does not know the bot or purged it).",
    );
    catalogue.endpoint(
        &subjects.bot_logs(),
        Kind::Query,
        "gateway",
        ("GetBotLogs", "BotLogPage"),
        "A page of a hosted bot's log from a line on, oldest first (at most `limit` lines and about 256 KiB).",
    );
    catalogue.endpoint(
        &subjects.bot_positions(),
        Kind::Query,
        "gateway",
        ("GetBotPositions", "BotPositionsPage"),
        "A hosted bot's open positions (oldest first), or a page of its closed ones (newest first, at most `limit` and about 256 KiB).",
    );
    catalogue.endpoint(
        &subjects.position_orders(),
        Kind::Query,
        "gateway",
        ("GetPositionOrders", "PositionOrdersReply"),
        "The entry and exit fills of one of a hosted bot's positions (null: no such position).",
    );
    catalogue.endpoint(
        &subjects.check_hosted_bot(),
        Kind::Query,
        "gateway",
        ("CheckHostedBot", "CheckedHostedBot"),
        "A would-be hosted bot checked as bots/create checks it (user, exchange, settings), stored nowhere: its canonical settings and market.",
    );
    catalogue.endpoint(
        &subjects.signal_bots(),
        Kind::Query,
        "gateway",
        ("FindSignalBots", "SignalBots"),
        "The partner's webhook bots that listen to a signal token (hosted, and strategy bots of its users; any status, not deleted).",
    );
    catalogue.endpoint(
        &subjects.send_signal(),
        Kind::Command,
        "gateway",
        ("SendSignal", "SendSignalReply"),
        "Store a signal and one receipt per bot, once per (partner, token, timestamp, action): true once committed, or at once for a repeat.",
    );
    catalogue.endpoint(
        &subjects.signal(),
        Kind::Query,
        "gateway",
        ("GetSignal", "SignalView"),
        "A token's last signal with every bot's receipt (not found: never signalled with that token).",
    );
    catalogue.endpoint(
        &subjects.preview_grid(),
        Kind::Query,
        "gateway",
        ("PreviewGrid", "GridPreview"),
        "A grid bot's preview at the runner's latest quote of its market (not found: no quote yet).",
    );
    catalogue.endpoint(
        &subjects.create_hosted_bot(),
        Kind::Command,
        "gateway",
        ("CreateHostedBot", "CreateHostedBotReply"),
        "Create and start a hosted bot (optionally a follower of a master); emits hosted_bot_changed.",
    );
    catalogue.endpoint(
        &subjects.edit_hosted_bot(),
        Kind::Command,
        "gateway",
        ("EditHostedBot", "EditHostedBotReply"),
        "Change a hosted bot's editable settings, and its followers' in the same transaction; one event each.",
    );
    catalogue.endpoint(
        &subjects.copy_hosted_bot(),
        Kind::Command,
        "gateway",
        ("CopyHostedBot", "CopyHostedBotReply"),
        "Copy a hosted bot to another user on the same exchange, optionally following its root master.",
    );
    catalogue.endpoint(
        &subjects.set_hosted_bot_status(),
        Kind::Command,
        "gateway",
        ("SetHostedBotStatus", "SetHostedBotStatusReply"),
        "Start or stop a hosted bot (conflict when it is already so); emits hosted_bot_changed.",
    );
    catalogue.endpoint(
        &subjects.delete_hosted_bot(),
        Kind::Command,
        "gateway",
        ("DeleteHostedBot", "DeleteHostedBotReply"),
        "Delete a hosted bot (its followers become independent); emits hosted_bot_changed for each.",
    );
    catalogue.topic(
        &subjects,
        &subjects.hosted_bot_changed(),
        subjects::HOSTED_BOT_CHANGED,
        "HostedBotChanged",
        "A hosted bot's definition or desired state changed: the whole definition, revisioned.",
    );
    catalogue.topic(
        &subjects,
        &subjects.user_deleted(),
        subjects::USER_DELETED,
        "UserDeleted",
        "A partner's user was deleted; erase their broker accounts' credentials.",
    );
    catalogue.topic(
        &subjects,
        &subjects.participation_created(),
        subjects::PARTICIPATION_CREATED,
        "ParticipationCreated",
        "A participation was recorded; fetch its broker order.",
    );
    catalogue.topic(
        &subjects,
        &subjects.order_fetched(),
        subjects::ORDER_FETCHED,
        "OrderFetched",
        "A participation's parent and child orders were fetched from the broker.",
    );
    catalogue.topic(
        &subjects,
        &subjects.order_fetch_failed(),
        subjects::ORDER_FETCH_FAILED,
        "OrderFetchFailed",
        "A participation's fetch was parked as a dead letter (one of six fixed codes; the detail stays in the fetcher).",
    );
    catalogue.topic(
        &subjects,
        &subjects.fill_recorded(),
        subjects::FILL_RECORDED,
        "FillRecorded",
        "A hosted bot's (or a session's) order filled: the ledger records it as a transaction of the position's bot trade.",
    );
    catalogue.topic(
        &subjects,
        &subjects.bot_stopped(),
        subjects::BOT_STOPPED,
        "BotStopped",
        "The engine stopped a hosted bot itself (or the runner could not run it): the ledger sets it stopped unless it changed since.",
    );
    catalogue.topic(
        &subjects,
        &subjects.backtest_queued(),
        subjects::BACKTEST_QUEUED,
        "BacktestQueued",
        "A backtest waits for a worker (a wake-up: the job lives in Postgres).",
    );
    catalogue.endpoint(
        &subjects.start_backtest(),
        Kind::Command,
        "gateway",
        ("StartBacktest", "StartBacktestReply"),
        "Validate a partner's backtest request, store it (state loading_script) and queue its job.",
    );
    catalogue.endpoint(
        &subjects.backtest_status(),
        Kind::Query,
        "gateway",
        ("BacktestRef", "BacktestStatus"),
        "A backtest's state, progress, message and worker (another partner's backtest: not found).",
    );
    catalogue.endpoint(
        &subjects.backtest_results(),
        Kind::Query,
        "gateway",
        ("BacktestRef", "BacktestResults"),
        "The results of a completed backtest (conflict before completion).",
    );
    catalogue.endpoint(
        &subjects.backtest_logs(),
        Kind::Query,
        "gateway",
        ("GetBacktestLogs", "BacktestPage"),
        "One page of a completed backtest's structured log.",
    );
    catalogue.endpoint(
        &subjects.backtest_positions(),
        Kind::Query,
        "gateway",
        ("GetBacktestPositions", "BacktestPage"),
        "One page of a completed backtest's positions with their orders (compact keys).",
    );
    catalogue.endpoint(
        &subjects.backtest_equity(),
        Kind::Query,
        "gateway",
        ("BacktestRef", "BacktestEquity"),
        "The sampled equity curve and drawdown of a completed backtest.",
    );
    catalogue.endpoint(
        &subjects.cancel_backtest(),
        Kind::Command,
        "gateway",
        ("BacktestRef", "CancelBacktestReply"),
        "Cancel a backtest; true also when it had already finished.",
    );
    catalogue.market_data(
        &subjects.quote_placeholder(),
        MARKET_FEED_USER,
        &[ServiceName::LiveSessionRunner],
        "QuoteMsg",
        "One market's quote: plain JSON on core NATS, no envelope, no stream (a missed quote is replaced by the next).",
    );
    catalogue.consumers = consumers::ALL.iter().map(|def| ConsumerEntry::of(&subjects, def)).collect();
    catalogue.schema::<crate::BusError>("BusError");
    catalogue.schema::<crate::messages::idempotency::IdempotencyKey>("IdempotencyKey");
    catalogue
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_subject_names_schemas_that_exist() {
        let catalogue = catalogue();
        for entry in &catalogue.subjects {
            for path in std::iter::once(&entry.message).chain(entry.reply.as_ref()) {
                let name = path.trim_start_matches("schemas/").trim_end_matches(".json");
                assert!(catalogue.schemas.contains_key(name), "{path}");
            }
        }
    }

    #[test]
    fn events_list_the_services_whose_durable_consumers_read_them() {
        let catalogue = catalogue();
        let consumers_of = |subject: &str| {
            let entry = catalogue.subjects.iter().find(|entry| entry.subject == subject).unwrap();
            entry.consumers.clone()
        };
        assert_eq!(consumers_of("{prefix}.evt.fetcher.order_fetch_failed.v1"), ["trade-ledger"]);
        assert_eq!(consumers_of("{prefix}.evt.ledger.participation_created.v1"), ["outbox-broker-fetcher"]);
        let durables: Vec<_> = catalogue.consumers.iter().map(|entry| entry.durable).collect();
        assert_eq!(durables, consumers::ALL.map(|def| def.durable));
    }

    #[test]
    fn subjects_are_unique() {
        let catalogue = catalogue();
        let mut seen = std::collections::BTreeSet::new();
        for entry in &catalogue.subjects {
            assert!(seen.insert(entry.subject.clone()), "{} twice", entry.subject);
        }
    }
}
