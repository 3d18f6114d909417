//! A partner's signals to its webhook bots (`signals/send`, `signals/get`; LIVE.md §5.7 in the
//! design notes, `docs/live.md` here):
//!
//! ```text
//!  gateway ─ qry.ledger.signal_bots ─► the partner's webhook bots with that token (none: 1010)
//!          ─ cmd.live.send_signal ───► runner: the signal, once per (partner, token, timestamp,
//!                                      action), and one receipt per bot, in one transaction
//!          ─ qry.live.signal ────────► the token's last signal with every bot's receipt
//! ```
//!
//! The gateway has validated every field before any of these is sent.

use crate::messages::partner::reference::JsonDecimal;
use domain::{BotId, PartnerId};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

/// What a signal tells a bot to do (its wire spelling is lowercase only).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum SignalActionMsg {
    /// Spot: buy `amount`.
    Buy,
    /// Spot: sell `amount`.
    Sell,
    /// Futures: open or add to the long position.
    EnterLong,
    /// Futures: reduce or close the long position.
    ExitLong,
    /// Futures: open or add to the short position.
    EnterShort,
    /// Futures: reduce or close the short position.
    ExitShort,
}

impl SignalActionMsg {
    /// Every action, in the order the error message lists them.
    pub const ALL: [Self; 6] =
        [Self::Buy, Self::Sell, Self::EnterLong, Self::ExitLong, Self::EnterShort, Self::ExitShort];

    /// The wire spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Buy => "buy",
            Self::Sell => "sell",
            Self::EnterLong => "enter_long",
            Self::ExitLong => "exit_long",
            Self::EnterShort => "enter_short",
            Self::ExitShort => "exit_short",
        }
    }

    /// From the wire spelling (exactly; `BUY` is not an action).
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|action| action.as_str() == text)
    }
}

/// What `amount` is counted in.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum InvestmentTypeMsg {
    /// The base currency (the default).
    #[default]
    Base,
    /// The quote currency, converted at the limit price or the delivery quote.
    Quote,
}

/// A validated signal, as the partner sent it.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SignalMsg {
    /// The token the partner's webhook bots listen to.
    pub signal_token: String,
    /// What to do.
    pub action: SignalActionMsg,
    /// How much, positive, in `investment_type`'s currency.
    pub amount: JsonDecimal,
    /// When the partner's service emitted it, Unix seconds.
    pub timestamp: i64,
    /// A limit price; a market order at the delivery quote when absent.
    pub price: Option<JsonDecimal>,
    /// What `amount` is counted in.
    pub investment_type: InvestmentTypeMsg,
    /// Refuse (and skip at delivery) a signal older than this many seconds; no limit if absent.
    pub max_lag: Option<i64>,
    /// The partner's own object, kept as sent (`{}` when absent; at most 4 KiB).
    #[schemars(with = "serde_json::Value")]
    pub metadata: Box<RawValue>,
}

/// Which family a bot that receives signals belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum SignalBotKind {
    /// A partner's hosted webhook bot.
    Hosted,
    /// A webhook strategy bot of one of the partner's users.
    Strategy,
}

/// The partner's webhook bots that listen to a token (`qry.ledger.signal_bots`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct FindSignalBots {
    /// The authenticated partner: another partner's bots are never answered.
    pub partner_id: PartnerId,
    /// The token as sent.
    pub signal_token: String,
}

/// One bot a signal goes to, as the ledger knows it now.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SignalBot {
    /// The bot.
    pub bot_id: BotId,
    /// Its family.
    pub kind: SignalBotKind,
    /// Whether it runs (a stopped bot's receipt is `skipped`, "bot is stopped").
    pub running: bool,
    /// The ledger's revision of the bot it answered from: the runner gives up a receipt of a
    /// bot it holds stopped only once it has heard of this revision (a start may be on its way).
    pub revision: i64,
}

/// Store a signal and one receipt per bot (`cmd.live.send_signal`): `true` once both are
/// committed, or at once for a signal already received (same partner, token, timestamp and
/// action), which changes nothing.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SendSignal {
    /// The authenticated partner.
    pub partner_id: PartnerId,
    /// The signal.
    pub signal: SignalMsg,
    /// The bots that listen to its token (never empty: the gateway answers 1010 first).
    pub bots: Vec<SignalBot>,
}

/// The last signal a partner sent with a token (`qry.live.signal`; not found: never signalled).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct GetSignal {
    /// The authenticated partner.
    pub partner_id: PartnerId,
    /// The token.
    pub signal_token: String,
}

/// A signal with what each bot did with it (`signals/get`).
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SignalView {
    /// The token.
    pub signal_token: String,
    /// The action.
    pub action: SignalActionMsg,
    /// The limit price, `null` for a market signal.
    pub price: Option<JsonDecimal>,
    /// The amount.
    pub amount: JsonDecimal,
    /// The partner's timestamp, Unix seconds.
    pub timestamp: i64,
    /// The partner's metadata (`{}` when it sent none).
    #[schemars(with = "serde_json::Value")]
    pub metadata: Box<RawValue>,
    /// When the runner stored it, Unix seconds.
    pub received_at: i64,
    /// One per bot the signal went to.
    pub receipts: Vec<SignalReceipt>,
}

/// What one bot did with a signal.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SignalReceipt {
    /// The bot, as its API shows it (32 hex digits for a hosted bot).
    pub bot_id: String,
    /// `hosted` or `strategy`.
    pub bot_kind: SignalBotKind,
    /// `pending` (not delivered yet), `delivered` or `skipped`.
    pub status: String,
    /// Why it was skipped, or why the exchange refused the order (`null` otherwise).
    pub reason: Option<String>,
    /// The order it placed.
    pub order_id: Option<String>,
    /// That order's status now: `OPEN`, `FILLED` or `CANCELLED`.
    pub order_status: Option<String>,
    /// When the bot acted on it (or skipped it), Unix seconds.
    pub delivered_at: Option<i64>,
}
