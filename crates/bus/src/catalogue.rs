//! The registry of every subject on the bus, and its rendering into `proto/`.
//!
//! [`catalogue`] lists each subject with its message, reply, producer, consumers and stream by
//! calling the same [`Subjects`] builders the services call, so the documentation cannot name
//! a subject the code does not use. [`render`] turns it into the files of `proto/`:
//! `README.md` (the human-readable table), `catalogue.json`, and `schemas/<Type>.json`, the
//! JSON Schema of each message body as it travels (events inside their envelope, replies
//! inside `{"ok"} | {"error"}`, quotes as they are).

use crate::envelope::Event;
use crate::error::Reply;
use crate::permissions::MARKET_FEED_USER;
use crate::subjects::{Endpoint, Kind, MarketData, Subjects, Topic};
use domain::ServiceName;
use schemars::JsonSchema;
use serde::Serialize;
use std::collections::BTreeMap;

/// One subject of the catalogue.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SubjectEntry {
    /// The subject with the prefix written as `{prefix}`.
    pub subject: String,
    /// `cmd`, `qry`, `evt` or `md`.
    pub kind: &'static str,
    /// The schema file of the message body.
    pub message: String,
    /// The schema file of the reply body (request/reply subjects only).
    pub reply: Option<String>,
    /// Who publishes (events) or sends (requests).
    pub producer: String,
    /// Who consumes (events) or answers (requests).
    pub consumers: Vec<String>,
    /// The JetStream stream holding the subject (events only).
    pub stream: Option<String>,
    /// What the subject is for.
    pub description: &'static str,
}

/// The registry: every subject and the schema of every body.
#[derive(Debug, Default)]
pub struct Catalogue {
    /// Subjects, in declaration order.
    pub subjects: Vec<SubjectEntry>,
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

    fn topic<T: JsonSchema>(
        &mut self,
        subjects: &Subjects,
        topic: &Topic<T>,
        consumers: &[ServiceName],
        name: &str,
        description: &'static str,
    ) {
        let message = self.schema::<Event<T>>(name);
        self.subjects.push(SubjectEntry {
            subject: topic.subject().to_string(),
            kind: Kind::Event.token(),
            message,
            reply: None,
            producer: topic.producer().to_string(),
            consumers: consumers.iter().map(ToString::to_string).collect(),
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
    catalogue.topic(
        &subjects,
        &subjects.participation_created(),
        &[ServiceName::OutboxBrokerFetcher],
        "ParticipationCreated",
        "A participation was recorded; fetch its broker order.",
    );
    catalogue.topic(
        &subjects,
        &subjects.order_fetched(),
        &[ServiceName::TradeLedger],
        "OrderFetched",
        "A participation's parent and child orders were fetched from the broker.",
    );
    catalogue.topic(
        &subjects,
        &subjects.order_fetch_failed(),
        &[ServiceName::TradeLedger],
        "OrderFetchFailed",
        "A participation's fetch was parked as a dead letter (one of six fixed codes; the detail stays in the fetcher).",
    );
    catalogue.topic(
        &subjects,
        &subjects.backtest_queued(),
        &[ServiceName::BacktestExecutor],
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
    catalogue.schema::<crate::BusError>("BusError");
    catalogue.schema::<crate::messages::idempotency::IdempotencyKey>("IdempotencyKey");
    catalogue
}

/// The files of `proto/`, path relative to `proto/` → content.
pub fn render(catalogue: &Catalogue) -> Result<BTreeMap<String, String>, serde_json::Error> {
    let mut files = BTreeMap::new();
    for (name, schema) in &catalogue.schemas {
        files.insert(format!("schemas/{name}.json"), serde_json::to_string_pretty(schema)? + "\n");
    }
    files.insert("catalogue.json".to_string(), serde_json::to_string_pretty(&catalogue.subjects)? + "\n");
    files.insert("README.md".to_string(), readme(catalogue));
    Ok(files)
}

fn readme(catalogue: &Catalogue) -> String {
    let mut out = String::from(
        "# NATS subject catalogue\n\n\
         Generated by `just proto` from `crates/bus/src/catalogue.rs`; do not edit by hand (a test\n\
         fails when these files differ from what the code generates).\n\n\
         Subjects are `<prefix>.<kind>.<context>.<name>.v<N>`; `{prefix}` is `tb` by default\n\
         (`APP_NATS__PREFIX`). Request bodies are the message's JSON; replies are\n\
         `{\"ok\": <reply>}` or `{\"error\": BusError}`; events are the `Event` envelope\n\
         `{id, type, occurredAt, data}` with `Nats-Msg-Id` set to the event id. Market data\n\
         (`md`) is plain JSON on core NATS, one subject per `{symbol}` (a single token).\n\n\
         | subject | kind | message | reply | producer | consumers | stream | purpose |\n\
         |---|---|---|---|---|---|---|---|\n",
    );
    for entry in &catalogue.subjects {
        let link = |path: &str| format!("[{}]({path})", path.trim_start_matches("schemas/").trim_end_matches(".json"));
        out.push_str(&format!(
            "| `{}` | {} | {} | {} | {} | {} | {} | {} |\n",
            entry.subject,
            entry.kind,
            link(&entry.message),
            entry.reply.as_deref().map(link).unwrap_or_else(|| "—".into()),
            entry.producer,
            entry.consumers.join(", "),
            entry.stream.as_deref().map(|s| format!("`{s}`")).unwrap_or_else(|| "—".into()),
            entry.description,
        ));
    }
    out
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
    fn subjects_are_unique() {
        let catalogue = catalogue();
        let mut seen = std::collections::BTreeSet::new();
        for entry in &catalogue.subjects {
            assert!(seen.insert(entry.subject.clone()), "{} twice", entry.subject);
        }
    }
}
