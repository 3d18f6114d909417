//! Backtests (partner API, reference 003): the gateway asks the backtest-executor to start,
//! watch, read and cancel backtests. Every request carries the partner the gateway
//! authenticated; a backtest of another partner is answered as unknown.
//!
//! Replies whose content the executor stores as JSON (results, positions, log pages) travel as
//! raw JSON text so exact decimals stay exact numbers byte for byte.

use domain::{BacktestId, PartnerId};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

/// `POST /partner/v1/bots/backtest`: the request body as the partner sent it, after the
/// gateway's shape checks (the executor validates type, settings, market and range).
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct StartBacktest {
    /// The authenticated partner: the backtest's owner.
    pub partner_id: PartnerId,
    /// The partner's user the backtest is for, if any: the gateway has checked with the ledger
    /// that it is one of the partner's users with an account on the exchange.
    pub user_id: Option<String>,
    /// The script type (`spot_grid`, `futures_grid`, `spot_dollar_cost_averaging`,
    /// `futures_dollar_cost_averaging`, `webhook`).
    #[serde(rename = "type")]
    pub script_type: String,
    /// The exchange (`SIM` when absent).
    pub exchange_id: Option<String>,
    /// The bot's settings, as sent (exact numbers kept).
    #[schemars(with = "serde_json::Value")]
    pub settings: Box<RawValue>,
    /// Start of the range, unix seconds (inclusive).
    pub start_unix: i64,
    /// End of the range, unix seconds (exclusive).
    pub end_unix: i64,
}

/// The answer to [`StartBacktest`]: started, or refused because no candles cover the range
/// (partner code 1007). Invalid requests are a `BusError::Invalid` naming the field.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum StartBacktestReply {
    /// The backtest row and its job exist; a worker will pick it up.
    Started(BacktestStarted),
    /// No price history for the market and range.
    NoPriceHistory {
        /// What is missing, fit to show to the client.
        message: String,
    },
}

/// `data` of a started backtest (reference 003).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct BacktestStarted {
    /// The new backtest's id.
    pub backtest_id: BacktestId,
    /// The executor instance that accepted it.
    pub service_id: String,
    /// A human-readable confirmation.
    pub message: String,
}

/// Names one backtest of one partner (status, results, positions, cancel, equity).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct BacktestRef {
    /// The authenticated partner.
    pub partner_id: PartnerId,
    /// The backtest.
    pub backtest_id: BacktestId,
}

/// `GET /bots/backtest/{id}/logs`: one page of the structured log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct GetBacktestLogs {
    /// The authenticated partner.
    pub partner_id: PartnerId,
    /// The backtest.
    pub backtest_id: BacktestId,
    /// Lines per page, 1–10,000 (a page also ends near 256 KiB). The gateway asks for 10,000
    /// while it walks the whole log for a request without `limit`.
    pub limit: u32,
    /// The cursor of the previous page's `nextPageId`.
    pub next_page_id: Option<String>,
}

/// `GET /bots/backtest/{id}/positions`: one page of positions with their orders.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct GetBacktestPositions {
    /// The authenticated partner.
    pub partner_id: PartnerId,
    /// The backtest.
    pub backtest_id: BacktestId,
    /// Positions per page, 1–10,000 (a page also ends near 256 KiB).
    pub limit: u32,
    /// The cursor of the previous page's `nextPageId`.
    pub next_page_id: Option<String>,
}

/// `data` of `GET /bots/backtest/{id}/status` (reference 003).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct BacktestStatus {
    /// The backtest.
    pub backtest_id: BacktestId,
    /// `loading_script`, `loading_data`, `executing`, `completed`, `failed` or `cancelled`.
    pub state: String,
    /// 0–100.
    pub progress: u8,
    /// What it is doing, or why it failed.
    pub message: String,
    /// The worker running it (the accepting instance until a worker claims it).
    pub service_id: String,
}

/// A page of stored JSON items (log lines or positions) and the cursor of the next page.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct BacktestPage {
    /// The items, as stored.
    #[schemars(with = "Vec<serde_json::Value>")]
    pub items: Box<RawValue>,
    /// The cursor of the next page; `None` on the last one.
    pub next_page_id: Option<String>,
}

/// The sampled equity curve of a completed backtest (for `equity.svg`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct BacktestEquity {
    /// The backtest.
    pub backtest_id: BacktestId,
    /// The market, `SIM:BTC-USDT`.
    pub market: String,
    /// The points in time order.
    pub points: Vec<EquitySample>,
}

/// One point of the equity curve.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct EquitySample {
    /// Unix seconds.
    pub time: i64,
    /// Equity in the quote currency.
    pub equity: rust_decimal::Decimal,
    /// Drawdown below the running peak (≥ 0), quote.
    pub drawdown: rust_decimal::Decimal,
}

/// `data` of `GET /bots/backtest/{id}/results`, as the executor stored it when the run
/// completed (summary, performance, orders, positions, the first 50 log lines).
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(transparent)]
pub struct BacktestResults(#[schemars(with = "serde_json::Value")] pub Box<RawValue>);
