//! Engine-level tests: whole runs over small hand-written candle series.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod checkpoint;
mod compact;
mod dca;
mod fill_model;
mod futures;
mod grid;
mod live;
mod live_control;
mod metrics;
mod preview;
mod props;
mod real_data;
mod webhook;

use rust_decimal::Decimal;
use rust_decimal::dec;

use crate::settings::{
    BotSettings, DcaDirection, DcaSettings, GridMode, GridSettings, InvestmentAsset, Signal, WebhookSettings,
};
use crate::{
    Candle, Engine, EngineEvent, EventKind, LiveConfig, LogLevel, MarketSpec, Order, OrderRole, OrderStatus, Quote,
    Report, RunConfig,
};

/// 2023-11-15 00:00:00 UTC: a whole number of days, so every test series is within one day.
pub const T0: i64 = 1_700_006_400;

/// Close time of candle `i`.
pub fn close_time(i: i64) -> i64 {
    T0 + 60 * (i + 1)
}

/// One-minute candles from `[open, high, low, close]` rows on SIM_BTC_USDT_.
pub fn series(rows: &[[Decimal; 4]]) -> Vec<Candle> {
    let m = MarketSpec::sim_btc_usdt();
    rows.iter().enumerate().map(|(i, r)| Candle::from_decimals(&m, T0 + 60 * i as i64, *r, dec!(1)).unwrap()).collect()
}

pub fn run(settings: BotSettings, cfg: RunConfig, candles: &[Candle]) -> Report {
    let mut e = Engine::new(settings, MarketSpec::sim_btc_usdt(), cfg).unwrap();
    e.on_candles(candles);
    e.finish()
}

pub fn grid(lower: Decimal, upper: Decimal, n: u32, investment: Decimal) -> GridSettings {
    GridSettings {
        symbol: "SIM_BTC_USDT_".into(),
        lower_limit: lower,
        upper_limit: upper,
        grid_mode: GridMode::Arithmetic,
        grid_count: n,
        investment_asset: Some(InvestmentAsset::Quote),
        investment_amount: investment,
        trade_to_fill_grid: None,
        leverage: None,
        max_win: None,
        max_loss: None,
        start_condition: Default::default(),
        start_type: Default::default(),
        start_value: Decimal::ZERO,
        stop_condition: Default::default(),
        stop_type: Default::default(),
        stop_value: Decimal::ZERO,
        stop_exit: false,
        interval: None,
    }
}

/// A DCA as docs/engine.md#dca describes it: base 100, 5 safety orders of 200 at 1 % steps,
/// scales 1, take profit 1 %.
pub fn dca() -> DcaSettings {
    DcaSettings {
        symbol: "SIM_BTC_USDT_".into(),
        direction: DcaDirection::Buy,
        base_order_amount: dec!(100),
        safety_order_amount: dec!(200),
        max_safety_orders: 5,
        price_deviation: dec!(1),
        safety_order_step_scale: dec!(1),
        safety_order_volume_scale: dec!(1),
        take_profit: dec!(1),
        leverage: None,
        interval: None,
    }
}

pub fn webhook(signals: Vec<Signal>) -> WebhookSettings {
    WebhookSettings {
        symbol: "SIM_BTC_USDT_".into(),
        signal_token: "t".into(),
        leverage: None,
        signals,
        interval: None,
    }
}

/// Orders filled, in the order they filled (by close time, then id).
pub fn fills(r: &Report) -> Vec<&Order> {
    let mut v: Vec<&Order> = r.orders.iter().filter(|o| o.status == OrderStatus::Filled).collect();
    v.sort_by_key(|o| (o.closed_at, o.id));
    v
}

pub fn with_role(r: &Report, role: OrderRole) -> Vec<&Order> {
    r.orders.iter().filter(|o| o.role == role).collect()
}

pub fn has_log(r: &Report, level: LogLevel, needle: &str) -> bool {
    r.logs.iter().any(|l| l.level == level && l.message.contains(needle))
}

/// A live run on SIM_BTC_USDT_ with the default configuration (10,000 USDT, fee 0.1 %).
pub fn live(settings: BotSettings) -> Engine {
    Engine::live(settings, MarketSpec::sim_btc_usdt(), RunConfig::default(), LiveConfig::default()).unwrap()
}

/// A quote at `t_ms` with bid, ask and last.
pub fn quote(t_ms: i64, bid: Decimal, ask: Decimal, last: Decimal) -> Quote {
    Quote::from_decimals(&MarketSpec::sim_btc_usdt(), t_ms, bid, ask, last).unwrap()
}

/// A quote at `t_ms` with no spread.
pub fn at(t_ms: i64, price: Decimal) -> Quote {
    quote(t_ms, price, price, price)
}

/// The name of an event's kind, e.g. `OrderPlaced`.
pub fn kind(e: &EngineEvent) -> &'static str {
    match &e.kind {
        EventKind::OrderPlaced { .. } => "OrderPlaced",
        EventKind::OrderCancelled { .. } => "OrderCancelled",
        EventKind::OrderReplaced { .. } => "OrderReplaced",
        EventKind::OrderFilled { .. } => "OrderFilled",
        EventKind::PositionOpened { .. } => "PositionOpened",
        EventKind::PositionChanged { .. } => "PositionChanged",
        EventKind::PositionClosed { .. } => "PositionClosed",
        EventKind::Log { .. } => "Log",
        EventKind::Decision(_) => "Decision",
        EventKind::BotDeactivated { .. } => "BotDeactivated",
        EventKind::Halted { .. } => "Halted",
        EventKind::Paused { .. } => "Paused",
        EventKind::SignalOutcome { .. } => "SignalOutcome",
    }
}

/// The kinds of the events that are not log lines, in order.
pub fn kinds(events: &[EngineEvent]) -> Vec<&'static str> {
    events.iter().map(kind).filter(|k| *k != "Log").collect()
}

/// The messages of the log lines among `events`.
pub fn lines(events: &[EngineEvent]) -> Vec<String> {
    events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::Log { message, .. } => Some(message.clone()),
            _ => None,
        })
        .collect()
}

/// The run's open orders, in id order: `(role, note, price)`.
pub fn open_orders(e: &Engine) -> Vec<(OrderRole, String, Decimal)> {
    e.clone()
        .finish()
        .orders
        .into_iter()
        .filter(|o| o.status == OrderStatus::Open)
        .map(|o| (o.role, o.note, o.price))
        .collect()
}
