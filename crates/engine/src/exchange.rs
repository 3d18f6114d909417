//! The simulated exchange of one account: places, cancels and fills orders, keeps balances
//! and positions, liquidates futures positions, and writes the log.
//!
//! Bots call it; the engine's walk calls [`Exchange::fill`] and [`Exchange::liquidate`] when
//! the book says something is crossed. Every amount is an integer (see [`crate::price`]);
//! `Decimal` is used only to compute a liquidation trigger and to format log lines. Times
//! are ms. A live run also records every change as an event (`journal.rs`).

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::account::Account;
use crate::book::{Book, Kind, What};
use crate::events::Journal;
use crate::fees::FeeRate;
use crate::log::LogLevel;
use crate::market::MarketSpec;
use crate::order::{OrderRec, Target};
use crate::position::PositionRec;
use crate::price::{Price, Qty, Scales};
use crate::store::Records;
use crate::vocabulary::{Direction, OrderId, OrderRole, OrderStatus, OrderType, PosId, Side, Venue};

/// What a bot asks for.
#[derive(Clone, Copy, Debug)]
pub(crate) struct OrderReq {
    pub side: Side,
    pub qty: Qty,
    pub role: OrderRole,
    pub tag: u32,
    pub venue: Venue,
    pub target: Target,
}

/// Why an order was not placed (the log says it too).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Refusal {
    BelowMinimum,
    InsufficientFunds,
    /// A reduce for a position that is closed or already fully covered by exits.
    NothingToReduce,
    /// A limit price of zero or less.
    BadPrice,
}

impl Refusal {
    /// The decision log's reason.
    pub fn code(self) -> &'static str {
        match self {
            Self::BelowMinimum => "below_minimum",
            Self::InsufficientFunds => "insufficient_funds",
            Self::NothingToReduce => "nothing_to_reduce",
            Self::BadPrice => "bad_price",
        }
    }
}

/// A fill, as the bot that owns the order sees it.
#[derive(Clone, Copy, Debug)]
pub(crate) struct FillEvent {
    pub order: OrderId,
    pub role: OrderRole,
    pub tag: u32,
    pub price: Price,
    /// The position it went to (for a flip of a net position: the new one).
    pub position: PosId,
}

/// The market at the moment a market order is placed: on a candle all three are the walked
/// point (or the close); on a quote a buy takes the ask and a sell the bid (the touch).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Touch {
    pub bid: Price,
    pub ask: Price,
    pub last: Price,
}

impl Touch {
    pub fn point(p: Price) -> Self {
        Self { bid: p, ask: p, last: p }
    }
}

/// Fixed parameters of the simulated exchange.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct ExchangeParams {
    pub market: MarketSpec,
    pub scales: Scales,
    pub fee: FeeRate,
    pub slippage_ticks: i64,
    pub maintenance_margin: Decimal,
    pub min_lots: i64,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct Exchange {
    pub p: ExchangeParams,
    pub account: Account,
    pub book: Book,
    pub orders: Records<OrderRec>,
    pub positions: Records<PositionRec>,
    /// Events (live) and the log.
    pub journal: Journal,
    /// Time stamped on everything that happens now, ms.
    pub now: i64,
    /// The price open positions are marked at in events (live: the last quote's `last`).
    pub mark: Price,
    /// Bumped by every fill and cancel: a refused order may fit after it changes.
    pub epoch: u64,
    pub fills: u64,
    pub fees_total: i128,
    /// Σ realized profit before fees of every exit, tick·lots (kept when positions are
    /// compacted away).
    pub gross_total: i128,
    /// The net spot position of a webhook bot, and its futures long and short.
    pub(crate) net_spot: Option<PosId>,
    pub(crate) net_long: Option<PosId>,
    pub(crate) net_short: Option<PosId>,
    /// Live: the message of the last refused order (a signal's outcome quotes it).
    #[serde(skip)]
    pub refusal: Option<String>,
    /// Live: the positions the fill being booked went to (scratch, empty between calls).
    #[serde(skip)]
    pub(super) parts: Vec<journal::Part>,
}

impl Exchange {
    pub fn new(p: ExchangeParams, account: Account, log_cap: usize, live: bool) -> Self {
        Self {
            p,
            account,
            book: Book::new(),
            orders: Records::default(),
            positions: Records::default(),
            journal: Journal::new(live, log_cap),
            now: 0,
            mark: Price(0),
            epoch: 0,
            fills: 0,
            fees_total: 0,
            gross_total: 0,
            net_spot: None,
            net_long: None,
            net_short: None,
            refusal: None,
            parts: Vec::new(),
        }
    }

    pub fn log(&mut self, level: LogLevel, message: impl FnOnce() -> String) {
        self.journal.log(self.now, level, message);
    }

    pub fn price_dec(&self, p: Price) -> Decimal {
        self.p.scales.price_dec(p)
    }

    pub fn qty_dec(&self, q: Qty) -> Decimal {
        self.p.scales.qty_dec(q)
    }

    pub fn money_dec(&self, m: i128) -> Decimal {
        self.p.scales.money_dec(m)
    }

    /// The open futures position a webhook bot holds in `dir`.
    pub fn net_position(&self, dir: Direction) -> Option<PosId> {
        match dir {
            Direction::Long => self.net_long,
            Direction::Short => self.net_short,
        }
    }

    pub fn position(&self, id: PosId) -> Option<&PositionRec> {
        self.positions.get(id)
    }

    /// Whether order `id` is open (an order `compact()` dropped is finished).
    pub fn is_open(&self, id: OrderId) -> bool {
        self.orders.get(id).is_some_and(|o| o.status == OrderStatus::Open)
    }

    /// Places a limit order; it goes live at the next candle (or quote).
    pub fn place_limit(&mut self, req: OrderReq, price: Price) -> Result<OrderId, Refusal> {
        let (reserved_quote, reserved_base) = self.check(&req, price)?;
        let id = self.record(&req, OrderType::Limit, price);
        let o = &mut self.orders[id];
        o.reserved_quote = reserved_quote;
        o.reserved_base = reserved_base;
        self.account.reserved_quote += reserved_quote;
        self.account.reserved_base += reserved_base;
        if let Target::Reduce(pos) = req.target
            && matches!(req.venue, Venue::Futures { .. })
        {
            self.positions[pos].pending_reduce += req.qty.0;
        }
        let kind = match req.side {
            Side::Buy => Kind::BuyLimit,
            Side::Sell => Kind::SellLimit,
        };
        self.book.add_pending(price.0, kind, req.role.rank(), What::Order(id));
        self.log_with(LogLevel::Trade, |ex| {
            let (pd, qd, base) = (ex.price_dec(price), ex.qty_dec(req.qty), &ex.p.market.base_currency);
            format!("Placed {} order at {pd} for {qd} {base} ({})", req.side.label(), req.role.note(req.tag))
        });
        self.emit_placed(id);
        Ok(id)
    }

    /// The price a market order of `side` fills at: the touch plus the configured slippage
    /// against the order (never below one tick).
    pub fn market_price(&self, side: Side, at: Touch) -> Price {
        let slip = self.p.slippage_ticks;
        match side {
            Side::Buy => Price(at.ask.0.saturating_add(slip)),
            Side::Sell => Price(at.bid.0.saturating_sub(slip).max(1)),
        }
    }

    /// Places a market order at `at` (the close, the walked point, or the quote's touch): it
    /// fills at once at [`Exchange::market_price`].
    pub fn place_market(&mut self, req: OrderReq, at: Touch) -> Result<FillEvent, Refusal> {
        let price = self.market_price(req.side, at);
        self.check(&req, price)?;
        let id = self.record(&req, OrderType::Market, price);
        if let Target::Reduce(pos) = req.target
            && matches!(req.venue, Venue::Futures { .. })
        {
            self.positions[pos].pending_reduce += req.qty.0;
        }
        self.emit_placed(id);
        Ok(self.fill(id, price))
    }

    /// Cancels an open order at once, releasing what it held. `reason` is the event's (live).
    pub fn cancel(&mut self, id: OrderId, reason: &str) {
        if !self.is_open(id) {
            return;
        }
        self.book.remove(What::Order(id));
        self.release(id);
        let now = self.now;
        let o = &mut self.orders[id];
        o.status = OrderStatus::Cancelled;
        o.closed = Some(now);
        self.epoch += 1;
        self.log_with(LogLevel::Trade, |ex| {
            let o = &ex.orders[id];
            format!("Cancelled {} order at {} ({})", o.side.label(), ex.price_dec(o.price), o.role.note(o.tag))
        });
        self.emit_cancelled(id, reason);
    }

    /// Cancels every open order.
    pub fn cancel_all(&mut self, reason: &str) {
        for id in self.book.orders() {
            self.cancel(id, reason);
        }
    }

    /// Fills an open order entirely at `price`.
    pub fn fill(&mut self, id: OrderId, price: Price) -> FillEvent {
        self.release(id);
        let o = &self.orders[id];
        let (side, qty, venue, target, role, tag) = (o.side, o.qty, o.venue, o.target, o.role, o.tag);
        let tl = i128::from(price.0) * i128::from(qty.0);
        let fee = self.p.fee.fee(tl);
        if venue == Venue::Spot {
            let notional = self.p.scales.ticklots_money(tl);
            match side {
                Side::Buy => {
                    self.account.quote -= notional + fee;
                    self.account.base += qty.0;
                }
                Side::Sell => {
                    self.account.quote += notional - fee;
                    self.account.base -= qty.0;
                }
            }
        }
        let position = self.apply(id, side, qty.0, price, fee, venue, target);
        let now = self.now;
        let o = &mut self.orders[id];
        o.status = OrderStatus::Filled;
        o.filled = qty;
        o.price = if o.kind == OrderType::Market { price } else { o.price };
        o.fee = fee;
        o.closed = Some(now);
        o.position = Some(position);
        self.epoch += 1;
        self.fills += 1;
        self.fees_total += fee;
        self.emit_filled(id);
        self.log_with(LogLevel::Trade, |ex| {
            let (pd, qd, fd) = (ex.price_dec(price), ex.qty_dec(qty), ex.money_dec(fee));
            let (base, quote) = (&ex.p.market.base_currency, &ex.p.market.quote_currency);
            format!("{} order filled at {pd} for {qd} {base}, fee {fd} {quote} ({})", side.label(), role.note(tag))
        });
        FillEvent { order: id, role, tag, price, position }
    }

    /// Closes a futures position at market at `price` (its liquidation).
    pub fn liquidate(&mut self, pos: PosId, price: Price) -> Option<FillEvent> {
        let p = self.positions.get(pos)?;
        if !p.open || p.qty == 0 {
            return None;
        }
        let (dir, qty, venue) = (p.direction, p.qty, p.venue);
        // Exits resting for this position can no longer fill: cancel them first.
        let own: Vec<OrderId> = self
            .book
            .orders()
            .into_iter()
            .filter(|&o| matches!(self.orders[o].target, Target::Reduce(q) | Target::Add(q) if q == pos))
            .collect();
        for o in own {
            self.cancel(o, "position liquidated");
        }
        self.log_with(LogLevel::Warning, |ex| format!("Position #{pos} liquidated at {}", ex.price_dec(price)));
        self.positions[pos].liquidated = true;
        let req = OrderReq {
            side: dir.exit_side(),
            qty: Qty(qty),
            role: OrderRole::Liquidation,
            tag: pos,
            venue,
            target: Target::Reduce(pos),
        };
        let id = self.record(&req, OrderType::Market, price);
        self.positions[pos].pending_reduce += qty;
        self.emit_placed(id);
        Some(self.fill(id, price))
    }

    /// Mark-to-market equity at `p`, money units.
    #[inline]
    pub fn equity(&self, p: Price) -> i128 {
        self.account.equity(p, &self.p.scales)
    }

    /// Logs a line built from the exchange's state. Formatting decimals is the costliest part
    /// of a fill, so once the log is full the line is only counted, never formatted.
    pub(crate) fn log_with(&mut self, level: LogLevel, message: impl FnOnce(&Exchange) -> String) {
        if self.journal.has_room() {
            let m = message(self);
            self.journal.log(self.now, level, || m);
        } else {
            self.journal.log(self.now, level, String::new);
        }
    }

    fn record(&mut self, req: &OrderReq, kind: OrderType, price: Price) -> OrderId {
        self.orders.push(OrderRec {
            side: req.side,
            kind,
            role: req.role,
            tag: req.tag,
            status: OrderStatus::Open,
            price,
            qty: req.qty,
            filled: Qty(0),
            fee: 0,
            created: self.now,
            closed: None,
            venue: req.venue,
            target: req.target,
            reserved_quote: 0,
            reserved_base: 0,
            position: None,
            last_seq: 0,
        })
    }

    fn release(&mut self, id: OrderId) {
        let o = &mut self.orders[id];
        self.account.reserved_quote -= o.reserved_quote;
        self.account.reserved_base -= o.reserved_base;
        o.reserved_quote = 0;
        o.reserved_base = 0;
        if let (Venue::Futures { .. }, Target::Reduce(pos)) = (o.venue, o.target) {
            let p = &mut self.positions[pos];
            p.pending_reduce = (p.pending_reduce - o.qty.0).max(0);
        }
    }
}

/// Isolated margin of a notional at a leverage, rounded up to the money unit.
pub(crate) fn margin_for(notional: i128, leverage: u32) -> i128 {
    let l = i128::from(leverage.max(1));
    (notional + l - 1).div_euclid(l)
}

mod funds;
mod journal;
mod positions;

#[cfg(test)]
mod tests;
