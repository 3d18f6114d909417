//! Hosted bots (reference 003's `bots/...`): definitions and desired state live in the ledger;
//! every change reaches the runner as a revisioned `hosted_bot_changed` event.
//!
//! Bot ids travel as the client sent them (`String`) wherever the route also names a user: the
//! ledger checks the user first (1001) and only then the bot (1002), so a malformed bot id must
//! not be refused before an unknown user is.

use crate::messages::bot_api::paging::TimeCursor;
use crate::messages::partner::reference::JsonDecimal;
use domain::{BotId, PartnerId, UserId};
use rust_decimal::Decimal;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

/// A hosted bot as reference 003 shows it (`bots/get`, items of `bots/list`).
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct HostedBotView {
    /// The owner.
    pub user_id: UserId,
    /// 32 lowercase hex digits.
    pub bot_id: String,
    /// `running` or `stopped` (the desired state).
    pub status: String,
    /// The root master's `botId`, or `""`.
    pub master_bot_id: String,
    /// Unix seconds.
    pub created_at: i64,
    /// The script type (`spot_grid`, ...).
    #[serde(rename = "type")]
    pub script_type: String,
    /// The exchange of `settings.symbol`'s market.
    pub exchange_id: String,
    /// Every setting, defaults filled in, numbers as exact JSON numbers.
    #[schemars(with = "serde_json::Value")]
    pub settings: Box<RawValue>,
    /// Realized profit net of fees, in the quote currency.
    pub profit: JsonDecimal,
    /// `profit` over the starting equity, in percent.
    pub roi: JsonDecimal,
    /// Copies ever made of it.
    pub cloned: i64,
    /// Live bots whose master it is.
    pub followers: i64,
}

/// One of the partner's hosted bots; with `user_id`, it must also be that user's (the user is
/// checked first).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct GetHostedBot {
    /// The authenticated partner.
    pub partner_id: PartnerId,
    /// The user the bot must belong to, when the route names one.
    pub user_id: Option<UserId>,
    /// The bot id as sent (32 hex or dashed).
    pub bot_id: String,
}

/// A page of the partner's hosted bots (or one user's), newest first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ListHostedBots {
    /// The authenticated partner.
    pub partner_id: PartnerId,
    /// Only this user's bots (`bots/user`); the user must be the partner's.
    pub user_id: Option<UserId>,
    /// At most this many (1 to 10,000); a page also ends near 256 KiB.
    pub limit: u32,
    /// The position of the last bot of the previous page.
    pub after: Option<TimeCursor>,
}

/// `data` of `bots/list` and `bots/user`.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct HostedBotsPage {
    /// The bots, newest first.
    pub items: Vec<HostedBotView>,
    /// The opaque token of the next page; null when none remain.
    pub next_page_id: Option<String>,
}

/// Create and start a hosted bot.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreateHostedBot {
    /// The authenticated partner.
    pub partner_id: PartnerId,
    /// The owner (one of the partner's users).
    pub user_id: UserId,
    /// The script type as sent.
    pub script_type: String,
    /// The settings object as sent.
    #[schemars(with = "serde_json::Value")]
    pub settings: Box<RawValue>,
    /// A master to follow (its root master is taken), as sent; `None` for none.
    pub master_bot_id: Option<String>,
}

/// Change a hosted bot's settings (editable keys only).
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct EditHostedBot {
    /// The authenticated partner.
    pub partner_id: PartnerId,
    /// The owner.
    pub user_id: UserId,
    /// The bot id as sent.
    pub bot_id: String,
    /// The keys to change, as sent.
    #[schemars(with = "serde_json::Value")]
    pub settings: Box<RawValue>,
}

/// Copy a hosted bot to another user on the same exchange.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CopyHostedBot {
    /// The authenticated partner.
    pub partner_id: PartnerId,
    /// The user who receives the copy.
    pub user_id: UserId,
    /// The source bot id as sent.
    pub bot_id: String,
    /// Make the copy follow the source's root master.
    pub follow_updates: bool,
    /// Settings merged over the source's (`None`: none).
    #[schemars(with = "Option<serde_json::Value>")]
    pub settings: Option<Box<RawValue>>,
}

/// The desired state of a hosted bot.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Desired {
    /// Trading.
    Running,
    /// Not trading; positions kept.
    Stopped,
    /// Gone: the runner purges it.
    Deleted,
}

/// Start (`running`) or stop (`stopped`) a hosted bot.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SetHostedBotStatus {
    /// The authenticated partner.
    pub partner_id: PartnerId,
    /// The bot id as sent.
    pub bot_id: String,
    /// `running` or `stopped`.
    pub desired: Desired,
}

/// Delete a hosted bot (stopped first if running).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct DeleteHostedBot {
    /// The authenticated partner.
    pub partner_id: PartnerId,
    /// The bot id as sent.
    pub bot_id: String,
}

/// A page of every live hosted bot's current revision, by bot id: what the runner compares
/// with what it holds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ListHostedBotRevisions {
    /// The last bot of the previous page.
    pub after: Option<BotId>,
    /// At most this many (1 to 10,000).
    pub limit: u32,
}

/// One bot's revision.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct HostedBotRevision {
    /// The bot.
    pub bot_id: BotId,
    /// Its current revision.
    pub revision: i64,
}

/// A page of revisions.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct HostedBotRevisionsPage {
    /// By bot id.
    pub items: Vec<HostedBotRevision>,
    /// Where the next page starts; `None` on the last.
    pub next: Option<BotId>,
}

/// The current definitions of some hosted bots (deleted ones too, as `desired: deleted`): what
/// the runner fetches for the revisions it lacks.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct GetHostedBotDefinitions {
    /// At most [`MAX_DEFINITIONS`] bots; unknown ids are left out of the reply.
    pub bot_ids: Vec<BotId>,
}

/// The most definitions one request may ask for (each is a few KiB at most).
pub const MAX_DEFINITIONS: usize = 100;

/// The market a hosted bot trades, with the field names of the engine's `MarketSpec` (so the
/// runner reads it as one).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct MarketSpecMsg {
    /// `<EXCHANGE>_<BASE>_<QUOTE>_<CONTRACT>`.
    pub symbol: String,
    /// Base currency.
    pub base_currency: String,
    /// Quote currency.
    pub quote_currency: String,
    /// Decimals of a price.
    pub price_decimals: u32,
    /// Decimals of an amount.
    pub amount_decimals: u32,
    /// The smallest order amount.
    pub minimum_trade_amount: Decimal,
}

/// A hosted bot's definition or desired state changed: the whole definition, revisioned (the
/// runner keeps only a newer revision).
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct HostedBotChanged {
    /// The bot.
    pub bot_id: BotId,
    /// Its partner.
    pub partner_id: PartnerId,
    /// Its owner.
    pub user_id: UserId,
    /// Bumped on every change of definition or desired state.
    pub revision: i64,
    /// What the runner must make of it.
    pub desired: Desired,
    /// The script type.
    #[serde(rename = "type")]
    pub script_type: String,
    /// The canonical settings (defaults filled in).
    #[schemars(with = "serde_json::Value")]
    pub settings: Box<RawValue>,
    /// The market of `settings.symbol`.
    pub market: MarketSpecMsg,
    /// Its exchange.
    pub exchange_id: String,
}

/// A would-be hosted bot, checked as `bots/create` checks it and stored nowhere (`bots/preview`).
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CheckHostedBot {
    /// The authenticated partner.
    pub partner_id: PartnerId,
    /// The owner-to-be (one of the partner's users).
    pub user_id: UserId,
    /// The exchange the user would run it on.
    pub exchange_id: String,
    /// The script type as sent.
    pub script_type: String,
    /// The settings object as sent.
    #[schemars(with = "serde_json::Value")]
    pub settings: Box<RawValue>,
}

/// What `bots/create` would store: the canonical settings and their market.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CheckedHostedBot {
    /// Every setting, defaults filled in, numbers exact.
    #[schemars(with = "serde_json::Value")]
    pub settings: Box<RawValue>,
    /// The market of `settings.symbol`.
    pub market: MarketSpecMsg,
}
