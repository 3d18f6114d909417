//! The shapes of `logs` and `positions` for the OpenAPI document: `data` is the array
//! reference 003 shows. The executor writes these items; the gateway only forwards them, so
//! these types describe them and are never built.

#![allow(dead_code)]

use utoipa::ToSchema;

/// A log line's level.
#[derive(ToSchema)]
#[schema(rename_all = "lowercase")]
pub enum LogSeverity {
    /// What the bot does.
    Info,
    /// An order placed or filled.
    Trade,
    /// Something the bot worked around.
    Warning,
    /// Something that went wrong.
    Error,
    /// A line the bot's script chose the colour of.
    Custom,
}

/// One line of a backtest's structured log.
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct BacktestLogLine {
    /// 0, 1, 2, ... in the order the run wrote them.
    #[schema(minimum = 0)]
    line_number: i32,
    /// Unix seconds (the candle time of the event).
    timestamp: i64,
    /// The level.
    severity: LogSeverity,
    /// The level's colour, `rgba(r, g, b, a)`.
    #[schema(example = "rgba(128, 128, 128, 1.00)")]
    color: String,
    /// The text.
    message: String,
}

/// Success envelope of `GET /bots/backtest/{id}/logs`.
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct LogsEnvelope {
    /// `true`.
    is_success: bool,
    /// 0.
    code: u16,
    /// Empty.
    message: String,
    /// The lines in order: all of them, or one page with `limit`.
    data: Vec<BacktestLogLine>,
}

/// An entry (`eno`) or exit (`exo`) order of a position (reference 003's compact keys).
#[derive(ToSchema)]
pub struct BacktestPositionOrder {
    /// The position's id.
    paid: String,
    /// Amount this fill added to (entry) or took from (exit) the position, base.
    pa: f64,
    /// The order's number in the run.
    id: String,
    /// Exchange order id (empty in a backtest).
    eid: String,
    /// Order creation, unix seconds.
    ot: i64,
    /// Fill time, unix seconds.
    ct: i64,
    /// 0 (not used in a backtest).
    to: i64,
    /// Side: 0 buy, 1 sell.
    #[schema(minimum = 0, maximum = 1)]
    d: u8,
    /// Type: 0 market, 1 limit.
    #[schema(minimum = 0, maximum = 1)]
    t: u8,
    /// Order price, quote.
    p: f64,
    /// 0 (not used in a backtest).
    tp: f64,
    /// Fill price, quote.
    ep: f64,
    /// Order amount, base.
    a: f64,
    /// Amount filled, base.
    af: f64,
    /// Fee paid.
    fe: f64,
    /// Fee currency.
    fc: String,
    /// Margin of an entry fill (notional / leverage; 0 on exits).
    m: f64,
    /// Not used in a backtest (`null`).
    #[schema(required = true)]
    pr: Option<f64>,
    /// Not used in a backtest (`null`).
    #[schema(required = true)]
    r: Option<f64>,
    /// Not used in a backtest (`null`).
    #[schema(required = true)]
    cr: Option<f64>,
    /// Why the bot placed it.
    n: String,
}

/// A position of a backtest with its orders (reference 003's compact keys).
#[derive(ToSchema)]
pub struct BacktestPosition {
    /// The position's number in the run.
    pg: String,
    /// The backtest's id.
    g: String,
    /// The user the backtest ran for (empty without one).
    ac: String,
    /// Market symbol, `SIM_BTC_USDT_`.
    ma: String,
    /// Leverage (1 on spot).
    le: u32,
    /// Direction: 0 long, 1 short.
    #[schema(minimum = 0, maximum = 1)]
    d: u8,
    /// Market type: 0 spot, 1 futures.
    #[schema(minimum = 0, maximum = 1)]
    mt: u8,
    /// Quote (profit) currency.
    pl: String,
    /// Base (amount) currency.
    al: String,
    /// Price decimals of the market.
    pd: u32,
    /// Amount decimals of the market.
    ad: u32,
    /// Opened, unix seconds.
    ot: i64,
    /// Closed, unix seconds (0 while open).
    ct: i64,
    /// Closed.
    ic: bool,
    /// Average entry price.
    ap: f64,
    /// Amount entered, base.
    t: f64,
    /// Average exit price (0 without an exit).
    av: f64,
    /// Amount still open, base.
    io: f64,
    /// Entry orders.
    eno: Vec<BacktestPositionOrder>,
    /// Exit orders.
    exo: Vec<BacktestPositionOrder>,
    /// Gross profit, quote.
    cp: f64,
    /// Fees, quote.
    fe: f64,
    /// Realized profit, quote.
    rp: f64,
    /// Unrealized profit at the end of the run, quote.
    up: f64,
    /// Realized profit / margin × 100.
    roi: f64,
    /// Highest price while open (`null`: not tracked).
    #[schema(required = true)]
    hpip: Option<f64>,
    /// Lowest price while open (`null`: not tracked).
    #[schema(required = true)]
    lpip: Option<f64>,
}

/// Success envelope of `GET /bots/backtest/{id}/positions`.
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct PositionsEnvelope {
    /// `true`.
    is_success: bool,
    /// 0.
    code: u16,
    /// Empty.
    message: String,
    /// The positions in order: all of them, or one page with `limit`.
    data: Vec<BacktestPosition>,
}
