//! The result of a run: the partner API's results fields, orders, positions, logs, equity.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::equity::{EquityPoint, EquityTracker};
use crate::exchange::Exchange;
use crate::log::{LogLine, secs};
use crate::metrics;
use crate::order::{Order, Target};
use crate::position::{PosFill, Position, PositionFill};
use crate::price::{Price, Qty};
use crate::vocabulary::{OrderId, OrderStatus, PosId, PositionStatus};

/// `summary` of the results.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    /// `grossProfit − feeCosts`, quote.
    pub realized_profit: Decimal,
    /// The quote currency.
    pub profit_currency: String,
    /// `realizedProfit / startingEquity × 100`.
    pub roi: Decimal,
    /// Every fee paid, quote.
    pub fee_costs: Decimal,
    /// Profit of all exits before fees, quote.
    pub gross_profit: Decimal,
    /// `(last close − first open) / first open × 100`.
    pub price_change: Decimal,
}

/// `performance` of the results.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Performance {
    /// Σ wins / |Σ losses| of closed positions; `null` without losses.
    pub profit_factor: Option<Decimal>,
    /// Annualised Sharpe ratio of daily returns; `null` when undefined.
    pub sharpe_ratio: Option<Decimal>,
    /// Annualised Sortino ratio of daily returns; `null` when undefined.
    pub sortino_ratio: Option<Decimal>,
    /// −(largest peak-to-trough fall of equity), quote (≤ 0).
    pub max_drawdown: Decimal,
    /// −(largest fall / its peak × 100) (≤ 0).
    pub max_drawdown_percent: Decimal,
    /// Winning / closed positions, a fraction 0..1.
    pub win_percentage: Decimal,
    /// Largest closed position profit (0 if none won).
    pub biggest_win: Decimal,
    /// Smallest closed position profit (≤ 0; 0 if none lost).
    pub biggest_loss: Decimal,
    /// Highest `equity − startingEquity` over the run.
    pub highest_profit: Decimal,
    /// Lowest `equity − startingEquity` over the run.
    pub lowest_profit: Decimal,
}

/// `orders` statistics of the results.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrdersStats {
    /// Orders placed (refused ones are not orders: only their log line exists).
    pub total: u64,
    /// Orders entirely filled.
    pub filled: u64,
    /// Orders with 0 < filled < amount (the candle model always fills whole: 0 in backtests).
    pub partially_filled: u64,
    /// Mean seconds from placement to fill over filled orders.
    pub average_open_time: Decimal,
}

/// `positions` statistics of the results.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PositionsStats {
    /// Positions entirely exited.
    pub closed_positions: u64,
    /// Closed with a profit > 0 (net of fees).
    pub winning_positions: u64,
    /// Closed with a profit < 0.
    pub losing_positions: u64,
    /// Mean profit of closed positions, quote.
    pub average_profit: Decimal,
    /// Mean margin (Σ entry notional / leverage) of closed positions, quote.
    pub average_margin: Decimal,
}

/// Everything a run produced.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    /// The market as results show it, e.g. `SIM:BTC-USDT`.
    pub market: String,
    /// Open time of the first candle, unix seconds.
    pub start_time: i64,
    /// Close time of the last candle, unix seconds.
    pub end_time: i64,
    /// Candles (or quotes) processed.
    pub candles: u64,
    /// Events ignored because they were not after the previous one.
    pub skipped_events: u64,
    /// Quote + base × first open.
    pub starting_equity: Decimal,
    /// Mark-to-market equity at the last close.
    pub final_equity: Decimal,
    /// Quote balance at the end (futures margin not included).
    pub final_quote: Decimal,
    /// Base balance at the end.
    pub final_base: Decimal,
    /// `summary`.
    pub summary: Summary,
    /// `performance`.
    pub performance: Performance,
    /// `orders` statistics.
    pub orders_stats: OrdersStats,
    /// `positions` statistics.
    pub positions_stats: PositionsStats,
    /// Every order placed, in order.
    pub orders: Vec<Order>,
    /// Every position, in order of opening.
    pub positions: Vec<Position>,
    /// The log (capped; see the crate docs).
    pub logs: Vec<LogLine>,
    /// The equity curve (at most the configured number of points, plus the last close).
    pub equity: Vec<EquityPoint>,
    /// Facts about the simulation the reader should know (e.g. no funding payments).
    pub notes: Vec<String>,
}

/// What the engine hands over to build the report (times in ms).
pub(crate) struct RunFacts {
    pub start_time: i64,
    pub end_time: i64,
    pub candles: u64,
    pub skipped: u64,
    pub first_open: Option<Price>,
    pub last_close: Option<Price>,
    pub days_per_year: u32,
    pub notes: Vec<String>,
}

impl Exchange {
    /// Order `id` as the report and events show it (times in unix seconds).
    pub(crate) fn order_view(&self, id: OrderId) -> Order {
        let s = self.p.scales;
        let o = &self.orders[id];
        Order {
            id,
            side: o.side,
            order_type: o.kind,
            status: o.status,
            role: o.role,
            note: o.role.note(o.tag),
            price: s.price_dec(o.price),
            amount: s.qty_dec(o.qty),
            amount_filled: s.qty_dec(o.filled),
            fee_costs: s.money_dec(o.fee),
            fee_currency: self.p.market.quote_currency.clone(),
            created_at: secs(o.created),
            closed_at: o.closed.map(secs),
            leverage: o.venue.leverage(),
            position_id: o.position,
            // Live runs only: a backtest's report stays as it was (LIVE.md §10).
            closes_position: match o.target {
                Target::Reduce(position) if self.journal.live() => Some(position),
                Target::Reduce(_) | Target::New(_) | Target::Add(_) | Target::Net => None,
            },
        }
    }

    /// Position `id` as the report and events show it, open amounts marked at `last`.
    pub(crate) fn position_view(&self, id: PosId, last: Price) -> Position {
        let s = self.p.scales;
        let p = &self.positions[id];
        let money = |m: i128| s.money_dec(m);
        let realized = money(s.ticklots_money(p.realized) - p.fees);
        let margin = money(p.committed);
        let fill = |pf: &PosFill| PositionFill {
            order_id: pf.order,
            time: secs(pf.time),
            side: pf.side,
            order_type: pf.kind,
            price: s.price_dec(pf.price),
            amount: s.qty_dec(pf.qty),
            fee_costs: money(pf.fee),
            note: pf.role.note(pf.tag),
        };
        let avg = |value: i128, qty: i64| (qty > 0).then(|| (s.ticklots_dec(value) / s.qty_dec(Qty(qty))).normalize());
        Position {
            id,
            direction: p.direction,
            status: if p.open { PositionStatus::Open } else { PositionStatus::Closed },
            leverage: p.venue.leverage(),
            open_time: secs(p.opened),
            close_time: p.closed.map(secs),
            amount: s.qty_dec(Qty(p.entry_qty)),
            open_amount: s.qty_dec(Qty(p.qty)),
            average_entry_price: avg(p.entry_value, p.entry_qty).unwrap_or_default(),
            average_exit_price: avg(p.exit_value, p.exit_qty),
            gross_profit: s.ticklots_dec(p.realized),
            fee_costs: money(p.fees),
            realized_profit: realized,
            unrealized_profit: if p.open { s.ticklots_dec(p.unrealized(last)) } else { Decimal::ZERO },
            margin,
            roi: metrics::roi(realized, margin),
            liquidated: p.liquidated,
            entry_orders: p.fills.iter().filter(|f| f.entry).map(fill).collect(),
            exit_orders: p.fills.iter().filter(|f| !f.entry).map(fill).collect(),
        }
    }
}

/// The report of a run. After `compact()` (live runs) the order and position lists and
/// their statistics cover the records kept; the profit and fee totals cover the whole run.
pub(crate) fn build(ex: Exchange, eq: &EquityTracker, f: RunFacts) -> Report {
    let s = ex.p.scales;
    let quote_ccy = ex.p.market.quote_currency.clone();
    let last = f.last_close.unwrap_or_default();
    let stats = eq.stats();
    let money = |m: i128| s.money_dec(m);

    let orders: Vec<Order> = ex.orders.iter().map(|(id, _)| ex.order_view(id)).collect();
    let positions: Vec<Position> = ex.positions.iter().map(|(id, _)| ex.position_view(id, last)).collect();
    let closed = positions.iter().filter(|p| p.status == PositionStatus::Closed);
    let closed_profits: Vec<Decimal> = closed.clone().map(|p| p.realized_profit).collect();
    let closed_margins: Vec<Decimal> = closed.map(|p| p.margin).collect();

    let gross = s.ticklots_dec(ex.gross_total);
    let fees = money(ex.fees_total);
    let realized = gross - fees;
    let start_equity = money(stats.start);
    let first_open = f.first_open.map(|p| s.price_dec(p)).unwrap_or_default();
    let summary = Summary {
        realized_profit: realized,
        profit_currency: quote_ccy,
        roi: metrics::roi(realized, start_equity),
        fee_costs: fees,
        gross_profit: gross,
        price_change: metrics::price_change(first_open, s.price_dec(last)),
    };

    let daily: Vec<Decimal> = stats.daily.iter().map(|&e| money(e)).collect();
    let returns = metrics::daily_returns(start_equity, &daily);
    let wins = closed_profits.iter().filter(|p| **p > Decimal::ZERO).count() as u64;
    let losses = closed_profits.iter().filter(|p| **p < Decimal::ZERO).count() as u64;
    let performance = Performance {
        profit_factor: metrics::profit_factor(&closed_profits),
        sharpe_ratio: metrics::sharpe(&returns, f.days_per_year),
        sortino_ratio: metrics::sortino(&returns, f.days_per_year),
        max_drawdown: -money(stats.max_drawdown),
        max_drawdown_percent: -stats.max_drawdown_pct.normalize(),
        win_percentage: metrics::fraction(wins, closed_profits.len() as u64),
        biggest_win: closed_profits.iter().copied().filter(|p| *p > Decimal::ZERO).max().unwrap_or_default(),
        biggest_loss: closed_profits.iter().copied().filter(|p| *p < Decimal::ZERO).min().unwrap_or_default(),
        highest_profit: money(stats.max_profit),
        lowest_profit: money(stats.min_profit),
    };

    // Open times in whole seconds, as the order times show them.
    let filled: Vec<&Order> = orders.iter().filter(|o| o.status == OrderStatus::Filled).collect();
    let open_times: Vec<Decimal> =
        filled.iter().map(|o| Decimal::from(o.closed_at.unwrap_or(o.created_at) - o.created_at)).collect();
    let orders_stats = OrdersStats {
        total: ex.orders.len() as u64,
        filled: filled.len() as u64,
        partially_filled: ex.orders.iter().filter(|(_, o)| o.filled.0 > 0 && o.filled < o.qty).count() as u64,
        average_open_time: metrics::average(&open_times),
    };
    let positions_stats = PositionsStats {
        closed_positions: closed_profits.len() as u64,
        winning_positions: wins,
        losing_positions: losses,
        average_profit: metrics::average(&closed_profits),
        average_margin: metrics::average(&closed_margins),
    };

    let equity = eq.curve();
    let market = ex.p.market.display_name();
    let (final_quote, final_base) = (money(ex.account.quote), s.qty_dec(Qty(ex.account.base)));
    let logs = ex.journal.finish(f.end_time);
    Report {
        market,
        start_time: secs(f.start_time),
        end_time: secs(f.end_time),
        candles: f.candles,
        skipped_events: f.skipped,
        starting_equity: start_equity,
        final_equity: money(stats.last),
        final_quote,
        final_base,
        summary,
        performance,
        orders_stats,
        positions_stats,
        orders,
        positions,
        logs,
        equity,
        notes: f.notes,
    }
}
