//! Subject and stream names. Nothing else in the workspace formats a subject: every
//! caller asks [`Subjects`] for a typed [`Endpoint`] (request/reply), [`Topic`] (event) or
//! [`MarketData`] (quotes), so a subject and the types that travel on it cannot be paired
//! wrongly. Durable consumers of the event subjects are defined in [`crate::consumers`].

mod handles;

pub use handles::{Endpoint, MarketData, Topic};

use crate::messages::backtest::{
    BacktestEquity, BacktestPage, BacktestRef, BacktestResults, BacktestStatus, GetBacktestLogs, GetBacktestPositions,
    StartBacktest, StartBacktestReply,
};
use crate::messages::bot_api::{
    BotConfigReply, CreateParticipations, GetBotConfig, GetStates, ParticipationsReply, StatesListReply, StatesReply,
    UpsertStates,
};
use crate::messages::credentials::StoreExchangeCredentials;
use crate::messages::fetch::{OrderFetchFailed, OrderFetched};
use crate::messages::hosted::{
    CheckHostedBot, CheckedHostedBot, CopyHostedBot, CreateHostedBot, DeleteHostedBot, EditHostedBot, GetHostedBot,
    GetHostedBotDefinitions, HostedBotChanged, HostedBotRevisionsPage, HostedBotView, HostedBotsPage,
    ListHostedBotRevisions, ListHostedBots, SetHostedBotStatus,
};
use crate::messages::idempotency::{Command, Replayable};
use crate::messages::ledger_auth::{Credential, Principal};
use crate::messages::live::{
    BotLogPage, BotOrder, BotPositionsPage, BotStopped, FillRecorded, GetBotLogs, GetBotOrders, GetBotPositions,
    GetPositionOrders, GridPreview, PositionOrders, PreviewGrid,
};
use crate::messages::market::{MarketSymbol, QuoteMsg};
use crate::messages::partner::reference::{ExchangeView, ListExchanges, ListMarkets, MarketView};
use crate::messages::partner::{
    CreatePartnerUser, DeletePartnerUser, GetPartnerUser, ListPartnerUsers, PartnerUser, PartnerUsersPage, UserDeleted,
};
use crate::messages::signals::{FindSignalBots, GetSignal, SendSignal, SignalBot, SignalView};
use crate::messages::trades::{
    AddTransactions, CreateTrade, GetTrade, ListTrades, ListTransactions, ParticipationsList, TradeReply, TradesPage,
    TransactionUpdatedReply, TransactionsAddedReply, TransactionsPage, UpdateTrade, UpdateTransaction,
};
use crate::messages::{BacktestQueued, ParticipationCreated, PingReply, PingRequest};
use domain::{ServiceName, UserId};
use std::marker::PhantomData;

/// The kinds of subject, the second token of every subject.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A request that changes something (request/reply).
    Command,
    /// A request that reads something (request/reply).
    Query,
    /// An event on a JetStream stream.
    Event,
    /// Market data on core NATS (quotes): lossy by design.
    MarketData,
}

impl Kind {
    /// The subject token of this kind.
    pub const fn token(self) -> &'static str {
        match self {
            Kind::Command => "cmd",
            Kind::Query => "qry",
            Kind::Event => "evt",
            Kind::MarketData => "md",
        }
    }
}

/// The context of market-data subjects: the market feed, a producer that is not a backend
/// service (it has no database and answers no requests).
pub const FEED_CONTEXT: &str = "feed";

/// An event subject without its prefix: the service whose stream holds it and the event's
/// name, `<prefix>.evt.<producer context>.<name>.v1`. [`Subjects`] turns one into a typed
/// [`Topic`]; the durable consumers of [`crate::consumers`] name what they read with it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EventName {
    /// The service that publishes it; its stream holds it.
    pub producer: ServiceName,
    /// The event's name, e.g. `participation_created`.
    pub name: &'static str,
}

/// `evt.ledger.participation_created.v1`: see [`Subjects::participation_created`].
pub const PARTICIPATION_CREATED: EventName =
    EventName { producer: ServiceName::TradeLedger, name: "participation_created" };
/// `evt.fetcher.order_fetched.v1`: see [`Subjects::order_fetched`].
pub const ORDER_FETCHED: EventName = EventName { producer: ServiceName::OutboxBrokerFetcher, name: "order_fetched" };
/// `evt.fetcher.order_fetch_failed.v1`: see [`Subjects::order_fetch_failed`].
pub const ORDER_FETCH_FAILED: EventName =
    EventName { producer: ServiceName::OutboxBrokerFetcher, name: "order_fetch_failed" };
/// `evt.ledger.user_deleted.v1`: see [`Subjects::user_deleted`].
pub const USER_DELETED: EventName = EventName { producer: ServiceName::TradeLedger, name: "user_deleted" };
/// `evt.ledger.hosted_bot_changed.v1`: see [`Subjects::hosted_bot_changed`].
pub const HOSTED_BOT_CHANGED: EventName = EventName { producer: ServiceName::TradeLedger, name: "hosted_bot_changed" };
/// `evt.live.fill_recorded.v1`: see [`Subjects::fill_recorded`].
pub const FILL_RECORDED: EventName = EventName { producer: ServiceName::LiveSessionRunner, name: "fill_recorded" };
/// `evt.live.bot_stopped.v1`: see [`Subjects::bot_stopped`].
pub const BOT_STOPPED: EventName = EventName { producer: ServiceName::LiveSessionRunner, name: "bot_stopped" };
/// `evt.backtest.backtest_queued.v1`: see [`Subjects::backtest_queued`].
pub const BACKTEST_QUEUED: EventName = EventName { producer: ServiceName::BacktestExecutor, name: "backtest_queued" };

/// Why a subject prefix was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error(
    "subject prefix {0:?} must be 1 to 32 characters of letters, digits, '_' or '-' (one subject token, usable in stream names)"
)]
pub struct InvalidPrefix(pub String);

/// Builds every name on the bus for one prefix.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Subjects {
    prefix: String,
}

impl Subjects {
    /// Names under `prefix`; the prefix must be one subject token that is also valid in a
    /// stream name (no `.`, `*`, `>` or whitespace).
    pub fn new(prefix: impl Into<String>) -> Result<Self, InvalidPrefix> {
        let prefix = prefix.into();
        let valid = !prefix.is_empty()
            && prefix.len() <= 32
            && prefix.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
        if valid { Ok(Self { prefix }) } else { Err(InvalidPrefix(prefix)) }
    }

    /// Names with the literal prefix `{prefix}`, for the catalogue in `proto/` only.
    pub(crate) fn placeholder() -> Self {
        Self { prefix: "{prefix}".to_string() }
    }

    /// The prefix every subject starts with.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    fn subject(&self, kind: Kind, service: ServiceName, name: &str, version: u8) -> String {
        format!("{}.{}.{}.{}.v{}", self.prefix, kind.token(), service.context(), name, version)
    }

    fn endpoint<Req, Resp>(&self, kind: Kind, service: ServiceName, name: &str) -> Endpoint<Req, Resp> {
        Endpoint { subject: self.subject(kind, service, name, 1), service, _types: PhantomData }
    }

    fn topic<T>(&self, event: EventName) -> Topic<T> {
        Topic { subject: self.event(event), producer: event.producer, _type: PhantomData }
    }

    /// The subject of `event` (untyped: a consumer's filter).
    pub fn event(&self, event: EventName) -> String {
        self.subject(Kind::Event, event.producer, event.name, 1)
    }

    /// `qry.<context>.ping.v1`: answered by a service only while its database is reachable.
    pub fn ping(&self, service: ServiceName) -> Endpoint<PingRequest, PingReply> {
        self.endpoint(Kind::Query, service, "ping")
    }

    /// `qry.ledger.authenticate.v1`: who a bot key, partner key or user token belongs to.
    pub fn authenticate(&self) -> Endpoint<Credential, Principal> {
        self.endpoint(Kind::Query, ServiceName::TradeLedger, "authenticate")
    }

    /// `qry.ledger.bot_config.v1`: a bot's own configuration (`GET /api/bots/:slug`).
    pub fn bot_config(&self) -> Endpoint<GetBotConfig, BotConfigReply> {
        self.endpoint(Kind::Query, ServiceName::TradeLedger, "bot_config")
    }

    /// `cmd.ledger.create_participations.v1`: reference 000.
    pub fn create_participations(&self) -> Endpoint<Command<CreateParticipations>, Replayable<ParticipationsReply>> {
        self.endpoint(Kind::Command, ServiceName::TradeLedger, "create_participations")
    }

    /// `cmd.ledger.upsert_states.v1`: reference 002.
    pub fn upsert_states(&self) -> Endpoint<Command<UpsertStates>, Replayable<StatesReply>> {
        self.endpoint(Kind::Command, ServiceName::TradeLedger, "upsert_states")
    }

    /// `qry.ledger.bot_states.v1`: a bot's stored states (`GET /api/bots/:slug/state`).
    pub fn bot_states(&self) -> Endpoint<GetStates, StatesListReply> {
        self.endpoint(Kind::Query, ServiceName::TradeLedger, "bot_states")
    }

    /// `cmd.ledger.create_trade.v1`: a trade with its entry transactions.
    pub fn create_trade(&self) -> Endpoint<Command<CreateTrade>, Replayable<TradeReply>> {
        self.endpoint(Kind::Command, ServiceName::TradeLedger, "create_trade")
    }

    /// `qry.ledger.list_trades.v1`: a bot's trades, newest first, paged.
    pub fn list_trades(&self) -> Endpoint<ListTrades, TradesPage> {
        self.endpoint(Kind::Query, ServiceName::TradeLedger, "list_trades")
    }

    /// `qry.ledger.get_trade.v1`: one trade with its transactions and participations.
    pub fn get_trade(&self) -> Endpoint<GetTrade, TradeReply> {
        self.endpoint(Kind::Query, ServiceName::TradeLedger, "get_trade")
    }

    /// `cmd.ledger.update_trade.v1`: a trade's own fields.
    pub fn update_trade(&self) -> Endpoint<UpdateTrade, TradeReply> {
        self.endpoint(Kind::Command, ServiceName::TradeLedger, "update_trade")
    }

    /// `cmd.ledger.add_transactions.v1`: reference 001.
    pub fn add_transactions(&self) -> Endpoint<Command<AddTransactions>, Replayable<TransactionsAddedReply>> {
        self.endpoint(Kind::Command, ServiceName::TradeLedger, "add_transactions")
    }

    /// `cmd.ledger.update_transaction.v1`: one transaction; recomputes the trade.
    pub fn update_transaction(&self) -> Endpoint<UpdateTransaction, TransactionUpdatedReply> {
        self.endpoint(Kind::Command, ServiceName::TradeLedger, "update_transaction")
    }

    /// `qry.ledger.trade_participations.v1`: a trade's participations.
    pub fn trade_participations(&self) -> Endpoint<GetTrade, ParticipationsList> {
        self.endpoint(Kind::Query, ServiceName::TradeLedger, "trade_participations")
    }

    /// `qry.ledger.trade_transactions.v1`: a page of a trade's transactions.
    pub fn trade_transactions(&self) -> Endpoint<ListTransactions, TransactionsPage> {
        self.endpoint(Kind::Query, ServiceName::TradeLedger, "trade_transactions")
    }

    /// `qry.ledger.partner_user.v1`: one of a partner's users with their exchanges.
    pub fn partner_user(&self) -> Endpoint<GetPartnerUser, PartnerUser> {
        self.endpoint(Kind::Query, ServiceName::TradeLedger, "partner_user")
    }

    /// `qry.ledger.partner_users.v1`: a page of a partner's users, newest first.
    pub fn partner_users(&self) -> Endpoint<ListPartnerUsers, PartnerUsersPage> {
        self.endpoint(Kind::Query, ServiceName::TradeLedger, "partner_users")
    }

    /// `cmd.ledger.create_partner_user.v1`: a partner's user with one broker account (once
    /// per `Idempotency-Key`); answers the new user's id.
    pub fn create_partner_user(&self) -> Endpoint<Command<CreatePartnerUser>, Replayable<UserId>> {
        self.endpoint(Kind::Command, ServiceName::TradeLedger, "create_partner_user")
    }

    /// `cmd.ledger.delete_partner_user.v1`: soft-deletes a partner's user (once per
    /// `Idempotency-Key`); answers `true`.
    pub fn delete_partner_user(&self) -> Endpoint<Command<DeletePartnerUser>, Replayable<bool>> {
        self.endpoint(Kind::Command, ServiceName::TradeLedger, "delete_partner_user")
    }

    /// `qry.ledger.exchanges.v1`: the enabled exchanges.
    pub fn exchanges(&self) -> Endpoint<ListExchanges, Vec<ExchangeView>> {
        self.endpoint(Kind::Query, ServiceName::TradeLedger, "exchanges")
    }

    /// `qry.ledger.markets.v1`: the markets of the enabled exchanges, with `isOpen` now.
    pub fn markets(&self) -> Endpoint<ListMarkets, Vec<MarketView>> {
        self.endpoint(Kind::Query, ServiceName::TradeLedger, "markets")
    }

    /// `qry.ledger.hosted_bots.v1`: a page of a partner's (or one user's) hosted bots.
    pub fn hosted_bots(&self) -> Endpoint<ListHostedBots, HostedBotsPage> {
        self.endpoint(Kind::Query, ServiceName::TradeLedger, "hosted_bots")
    }

    /// `qry.ledger.hosted_bot.v1`: one of a partner's hosted bots (and whose it is).
    pub fn hosted_bot(&self) -> Endpoint<GetHostedBot, HostedBotView> {
        self.endpoint(Kind::Query, ServiceName::TradeLedger, "hosted_bot")
    }

    /// `qry.ledger.hosted_bot_revisions.v1`: every live hosted bot's current revision, paged.
    pub fn hosted_bot_revisions(&self) -> Endpoint<ListHostedBotRevisions, HostedBotRevisionsPage> {
        self.endpoint(Kind::Query, ServiceName::TradeLedger, "hosted_bot_revisions")
    }

    /// `qry.ledger.check_hosted_bot.v1`: a would-be hosted bot checked as `bots/create` checks
    /// it, stored nowhere: its canonical settings and market (`bots/preview`).
    pub fn check_hosted_bot(&self) -> Endpoint<CheckHostedBot, CheckedHostedBot> {
        self.endpoint(Kind::Query, ServiceName::TradeLedger, "check_hosted_bot")
    }

    /// `qry.ledger.hosted_bot_definitions.v1`: the current definitions of some hosted bots.
    pub fn hosted_bot_definitions(&self) -> Endpoint<GetHostedBotDefinitions, Vec<HostedBotChanged>> {
        self.endpoint(Kind::Query, ServiceName::TradeLedger, "hosted_bot_definitions")
    }

    /// `cmd.ledger.create_hosted_bot.v1`: create and start a hosted bot.
    pub fn create_hosted_bot(&self) -> Endpoint<Command<CreateHostedBot>, Replayable<HostedBotView>> {
        self.endpoint(Kind::Command, ServiceName::TradeLedger, "create_hosted_bot")
    }

    /// `cmd.ledger.edit_hosted_bot.v1`: change a hosted bot's editable settings (and its
    /// followers').
    pub fn edit_hosted_bot(&self) -> Endpoint<Command<EditHostedBot>, Replayable<bool>> {
        self.endpoint(Kind::Command, ServiceName::TradeLedger, "edit_hosted_bot")
    }

    /// `cmd.ledger.copy_hosted_bot.v1`: copy a hosted bot to another user.
    pub fn copy_hosted_bot(&self) -> Endpoint<Command<CopyHostedBot>, Replayable<HostedBotView>> {
        self.endpoint(Kind::Command, ServiceName::TradeLedger, "copy_hosted_bot")
    }

    /// `cmd.ledger.set_hosted_bot_status.v1`: start or stop a hosted bot.
    pub fn set_hosted_bot_status(&self) -> Endpoint<Command<SetHostedBotStatus>, Replayable<bool>> {
        self.endpoint(Kind::Command, ServiceName::TradeLedger, "set_hosted_bot_status")
    }

    /// `cmd.ledger.delete_hosted_bot.v1`: delete a hosted bot.
    pub fn delete_hosted_bot(&self) -> Endpoint<Command<DeleteHostedBot>, Replayable<bool>> {
        self.endpoint(Kind::Command, ServiceName::TradeLedger, "delete_hosted_bot")
    }

    /// `evt.ledger.hosted_bot_changed.v1`: a hosted bot's definition or desired state changed
    /// (state-carrying, revisioned).
    pub fn hosted_bot_changed(&self) -> Topic<HostedBotChanged> {
        self.topic(HOSTED_BOT_CHANGED)
    }

    /// `evt.live.fill_recorded.v1`: a hosted bot's or a session's order filled; the ledger
    /// records it as a transaction of the position's bot trade.
    pub fn fill_recorded(&self) -> Topic<FillRecorded> {
        self.topic(FILL_RECORDED)
    }

    /// `evt.live.bot_stopped.v1`: the engine stopped a hosted bot itself (or the runner could
    /// not run it); the ledger sets it stopped unless it changed since.
    pub fn bot_stopped(&self) -> Topic<BotStopped> {
        self.topic(BOT_STOPPED)
    }

    /// `evt.ledger.user_deleted.v1`: a partner's user was deleted; the fetcher erases the
    /// credentials of their broker accounts.
    pub fn user_deleted(&self) -> Topic<UserDeleted> {
        self.topic(USER_DELETED)
    }

    /// `cmd.fetcher.store_exchange_credentials.v1`: seal a user's exchange API keys in the
    /// fetcher's store; answers `true`.
    pub fn store_exchange_credentials(&self) -> Endpoint<StoreExchangeCredentials, bool> {
        self.endpoint(Kind::Command, ServiceName::OutboxBrokerFetcher, "store_exchange_credentials")
    }

    /// `evt.ledger.participation_created.v1`: a participation was recorded; its broker order
    /// must be fetched.
    pub fn participation_created(&self) -> Topic<ParticipationCreated> {
        self.topic(PARTICIPATION_CREATED)
    }

    /// `evt.fetcher.order_fetched.v1`: a participation's broker orders were fetched and stored.
    pub fn order_fetched(&self) -> Topic<OrderFetched> {
        self.topic(ORDER_FETCHED)
    }

    /// `evt.fetcher.order_fetch_failed.v1`: a participation's fetch was parked as a dead letter.
    pub fn order_fetch_failed(&self) -> Topic<OrderFetchFailed> {
        self.topic(ORDER_FETCH_FAILED)
    }

    /// `evt.backtest.backtest_queued.v1`: wakes a backtest worker; the job itself lives in
    /// the executor's `backtests` table.
    pub fn backtest_queued(&self) -> Topic<BacktestQueued> {
        self.topic(BACKTEST_QUEUED)
    }

    /// `cmd.backtest.start_backtest.v1`: validate a backtest request and queue it (once per
    /// `Idempotency-Key`).
    pub fn start_backtest(&self) -> Endpoint<Command<StartBacktest>, Replayable<StartBacktestReply>> {
        self.endpoint(Kind::Command, ServiceName::BacktestExecutor, "start_backtest")
    }

    /// `qry.backtest.backtest_status.v1`: state, progress, message and worker of a backtest.
    pub fn backtest_status(&self) -> Endpoint<BacktestRef, BacktestStatus> {
        self.endpoint(Kind::Query, ServiceName::BacktestExecutor, "backtest_status")
    }

    /// `qry.backtest.backtest_results.v1`: the stored results of a completed backtest.
    pub fn backtest_results(&self) -> Endpoint<BacktestRef, BacktestResults> {
        self.endpoint(Kind::Query, ServiceName::BacktestExecutor, "backtest_results")
    }

    /// `qry.backtest.backtest_logs.v1`: one page of a completed backtest's log.
    pub fn backtest_logs(&self) -> Endpoint<GetBacktestLogs, BacktestPage> {
        self.endpoint(Kind::Query, ServiceName::BacktestExecutor, "backtest_logs")
    }

    /// `qry.backtest.backtest_positions.v1`: one page of a completed backtest's positions.
    pub fn backtest_positions(&self) -> Endpoint<GetBacktestPositions, BacktestPage> {
        self.endpoint(Kind::Query, ServiceName::BacktestExecutor, "backtest_positions")
    }

    /// `qry.backtest.backtest_equity.v1`: the sampled equity curve of a completed backtest.
    pub fn backtest_equity(&self) -> Endpoint<BacktestRef, BacktestEquity> {
        self.endpoint(Kind::Query, ServiceName::BacktestExecutor, "backtest_equity")
    }

    /// `cmd.backtest.cancel_backtest.v1`: stop a backtest (a finished one stays as it is).
    pub fn cancel_backtest(&self) -> Endpoint<BacktestRef, bool> {
        self.endpoint(Kind::Command, ServiceName::BacktestExecutor, "cancel_backtest")
    }

    /// `qry.live.bot_orders.v1`: a hosted bot's open orders, oldest first (not-found for a bot
    /// the runner does not know or has purged).
    pub fn bot_orders(&self) -> Endpoint<GetBotOrders, Vec<BotOrder>> {
        self.endpoint(Kind::Query, ServiceName::LiveSessionRunner, "bot_orders")
    }

    /// `qry.live.bot_logs.v1`: a page of a hosted bot's log, oldest line first.
    pub fn bot_logs(&self) -> Endpoint<GetBotLogs, BotLogPage> {
        self.endpoint(Kind::Query, ServiceName::LiveSessionRunner, "bot_logs")
    }

    /// `qry.live.bot_positions.v1`: a hosted bot's open positions, or a page of its closed ones.
    pub fn bot_positions(&self) -> Endpoint<GetBotPositions, BotPositionsPage> {
        self.endpoint(Kind::Query, ServiceName::LiveSessionRunner, "bot_positions")
    }

    /// `qry.live.position_orders.v1`: the entry and exit fills of one of a hosted bot's
    /// positions (`None`: no such position).
    pub fn position_orders(&self) -> Endpoint<GetPositionOrders, Option<PositionOrders>> {
        self.endpoint(Kind::Query, ServiceName::LiveSessionRunner, "position_orders")
    }

    /// `qry.ledger.signal_bots.v1`: a partner's webhook bots (hosted, and strategy bots of its
    /// users; any status, not deleted) that listen to a signal token.
    pub fn signal_bots(&self) -> Endpoint<FindSignalBots, Vec<SignalBot>> {
        self.endpoint(Kind::Query, ServiceName::TradeLedger, "signal_bots")
    }

    /// `cmd.live.send_signal.v1`: store a signal and one receipt per bot, once per (partner,
    /// token, timestamp, action); the bots' owners deliver it at their market's next quote.
    pub fn send_signal(&self) -> Endpoint<Command<SendSignal>, Replayable<bool>> {
        self.endpoint(Kind::Command, ServiceName::LiveSessionRunner, "send_signal")
    }

    /// `qry.live.signal.v1`: a token's last signal with every bot's receipt (not found: the
    /// partner never signalled with it).
    pub fn signal(&self) -> Endpoint<GetSignal, SignalView> {
        self.endpoint(Kind::Query, ServiceName::LiveSessionRunner, "signal")
    }

    /// `qry.live.preview_grid.v1`: a grid bot's preview at the runner's latest quote of its
    /// market (not found: no quote yet).
    pub fn preview_grid(&self) -> Endpoint<PreviewGrid, GridPreview> {
        self.endpoint(Kind::Query, ServiceName::LiveSessionRunner, "preview_grid")
    }

    /// `md.feed.quote.v1.<symbol>`: one market's quotes, published by the market feed.
    pub fn quote(&self, symbol: &MarketSymbol) -> MarketData<QuoteMsg> {
        self.quote_token(symbol.as_str())
    }

    /// `md.feed.quote.v1.*`: every market's quotes, to subscribe to (never to publish on).
    pub fn quotes(&self) -> MarketData<QuoteMsg> {
        self.quote_token("*")
    }

    /// The quote subject with the literal `{symbol}`, for the catalogue in `proto/` only.
    pub(crate) fn quote_placeholder(&self) -> MarketData<QuoteMsg> {
        self.quote_token("{symbol}")
    }

    fn quote_token(&self, token: &str) -> MarketData<QuoteMsg> {
        let subject = format!("{}.{}.{FEED_CONTEXT}.quote.v1.{token}", self.prefix, Kind::MarketData.token());
        MarketData { subject, _type: PhantomData }
    }

    /// The subjects of one service's event stream: every `evt` subject it produces.
    pub fn events_of(&self, producer: ServiceName) -> String {
        format!("{}.{}.{}.>", self.prefix, Kind::Event.token(), producer.context())
    }

    /// The name of the JetStream stream holding one service's events.
    pub fn stream_name(&self, producer: ServiceName) -> String {
        format!("{}_{}_events", self.prefix, producer.context())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subjects_follow_the_naming_scheme() {
        let subjects = Subjects::new("tb").unwrap();
        assert_eq!(subjects.ping(ServiceName::TradeLedger).subject(), "tb.qry.ledger.ping.v1");
        assert_eq!(subjects.participation_created().subject(), "tb.evt.ledger.participation_created.v1");
        assert_eq!(subjects.participation_created().event_type(), "participation_created.v1");
        assert_eq!(subjects.events_of(ServiceName::OutboxBrokerFetcher), "tb.evt.fetcher.>");
        assert_eq!(subjects.stream_name(ServiceName::BacktestExecutor), "tb_backtest_events");
        let symbol = MarketSymbol::new("SIM_BTC_USDT_").unwrap();
        assert_eq!(subjects.quote(&symbol).subject(), "tb.md.feed.quote.v1.SIM_BTC_USDT_");
        assert_eq!(subjects.quotes().subject(), "tb.md.feed.quote.v1.*");
    }

    #[test]
    fn prefixes_that_would_break_subjects_or_stream_names_are_refused() {
        for bad in ["", "a.b", "a b", "a*", "a>", &"x".repeat(33)] {
            assert_eq!(Subjects::new(bad), Err(InvalidPrefix(bad.to_string())), "{bad:?}");
        }
        assert!(Subjects::new("t_3f9a-01").is_ok());
    }

    #[test]
    fn queue_groups_are_per_service() {
        let subjects = Subjects::new("tb").unwrap();
        assert_eq!(subjects.ping(ServiceName::LiveSessionRunner).queue_group(), "live");
    }
}
