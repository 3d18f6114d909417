//! The simulated exchange of one account: places, cancels and fills orders, keeps balances
//! and positions, liquidates futures positions, and writes the log.
//!
//! Bots call it; the engine's walk calls [`Exchange::fill`] and [`Exchange::liquidate`] when
//! the book says something is crossed. Every amount is an integer (see [`crate::price`]);
//! `Decimal` is used only to compute a liquidation trigger and to format log lines.

use rust_decimal::Decimal;

use crate::account::Account;
use crate::book::{Book, Kind, What};
use crate::fees::FeeRate;
use crate::log::{LogBook, LogLevel};
use crate::market::MarketSpec;
use crate::order::{OrderId, OrderRec, OrderRole, OrderStatus, OrderType, Side, Target, Venue};
use crate::position::{Direction, PosId, PositionRec};
use crate::price::{Price, Qty, Scales};

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
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
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
#[derive(Clone, Debug)]
pub(crate) struct ExchangeParams {
    pub market: MarketSpec,
    pub scales: Scales,
    pub fee: FeeRate,
    pub slippage_ticks: i64,
    pub maintenance_margin: Decimal,
    pub min_lots: i64,
}

#[derive(Clone, Debug)]
pub(crate) struct Exchange {
    pub p: ExchangeParams,
    pub account: Account,
    pub book: Book,
    pub orders: Vec<OrderRec>,
    pub positions: Vec<PositionRec>,
    pub logs: LogBook,
    /// Time stamped on everything that happens now.
    pub now: i64,
    /// Bumped by every fill and cancel: a refused order may fit after it changes.
    pub epoch: u64,
    pub fills: u64,
    pub fees_total: i128,
    /// The net spot position of a webhook bot, and its futures long and short.
    net_spot: Option<PosId>,
    net_long: Option<PosId>,
    net_short: Option<PosId>,
}

impl Exchange {
    pub fn new(p: ExchangeParams, account: Account, log_cap: usize) -> Self {
        Self {
            p,
            account,
            book: Book::new(),
            orders: Vec::new(),
            positions: Vec::new(),
            logs: LogBook::new(log_cap),
            now: 0,
            epoch: 0,
            fills: 0,
            fees_total: 0,
            net_spot: None,
            net_long: None,
            net_short: None,
        }
    }

    pub fn log(&mut self, level: LogLevel, message: impl FnOnce() -> String) {
        self.logs.push(self.now, level, message);
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
        self.positions.get(id as usize)
    }

    /// Places a limit order; it goes live at the next candle (or quote).
    pub fn place_limit(&mut self, req: OrderReq, price: Price) -> Result<OrderId, Refusal> {
        let (reserved_quote, reserved_base) = self.check(&req, price)?;
        let id = self.record(&req, OrderType::Limit, price);
        let o = &mut self.orders[id as usize];
        o.reserved_quote = reserved_quote;
        o.reserved_base = reserved_base;
        self.account.reserved_quote += reserved_quote;
        self.account.reserved_base += reserved_base;
        if let Target::Reduce(pos) = req.target
            && matches!(req.venue, Venue::Futures { .. })
        {
            self.positions[pos as usize].pending_reduce += req.qty.0;
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
            self.positions[pos as usize].pending_reduce += req.qty.0;
        }
        Ok(self.fill(id, price))
    }

    /// Cancels an open order at once, releasing what it held.
    pub fn cancel(&mut self, id: OrderId) {
        let Some(o) = self.orders.get(id as usize) else { return };
        if o.status != OrderStatus::Open {
            return;
        }
        self.book.remove(What::Order(id));
        self.release(id);
        let now = self.now;
        let o = &mut self.orders[id as usize];
        o.status = OrderStatus::Cancelled;
        o.closed = Some(now);
        self.epoch += 1;
        self.log_with(LogLevel::Trade, |ex| {
            let o = &ex.orders[id as usize];
            format!("Cancelled {} order at {} ({})", o.side.label(), ex.price_dec(o.price), o.role.note(o.tag))
        });
    }

    /// Cancels every open order.
    pub fn cancel_all(&mut self) {
        for id in self.book.orders() {
            self.cancel(id);
        }
    }

    /// Fills an open order entirely at `price`.
    pub fn fill(&mut self, id: OrderId, price: Price) -> FillEvent {
        self.release(id);
        let o = &self.orders[id as usize];
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
        let o = &mut self.orders[id as usize];
        o.status = OrderStatus::Filled;
        o.filled = qty;
        o.price = if o.kind == OrderType::Market { price } else { o.price };
        o.fee = fee;
        o.closed = Some(now);
        o.position = Some(position);
        self.epoch += 1;
        self.fills += 1;
        self.fees_total += fee;
        self.log_with(LogLevel::Trade, |ex| {
            let (pd, qd, fd) = (ex.price_dec(price), ex.qty_dec(qty), ex.money_dec(fee));
            let (base, quote) = (&ex.p.market.base_currency, &ex.p.market.quote_currency);
            format!("{} order filled at {pd} for {qd} {base}, fee {fd} {quote} ({})", side.label(), role.note(tag))
        });
        FillEvent { order: id, role, tag, price, position }
    }

    /// Closes a futures position at market at `price` (its liquidation).
    pub fn liquidate(&mut self, pos: PosId, price: Price) -> Option<FillEvent> {
        let p = self.positions.get(pos as usize)?;
        if !p.open || p.qty == 0 {
            return None;
        }
        let (dir, qty, venue) = (p.direction, p.qty, p.venue);
        // Exits resting for this position can no longer fill: cancel them first.
        let own: Vec<OrderId> = self
            .book
            .orders()
            .into_iter()
            .filter(|&o| matches!(self.orders[o as usize].target, Target::Reduce(q) | Target::Add(q) if q == pos))
            .collect();
        for o in own {
            self.cancel(o);
        }
        self.log_with(LogLevel::Warning, |ex| format!("Position #{pos} liquidated at {}", ex.price_dec(price)));
        self.positions[pos as usize].liquidated = true;
        let req = OrderReq {
            side: dir.exit_side(),
            qty: Qty(qty),
            role: OrderRole::Liquidation,
            tag: pos,
            venue,
            target: Target::Reduce(pos),
        };
        let id = self.record(&req, OrderType::Market, price);
        self.positions[pos as usize].pending_reduce += qty;
        Some(self.fill(id, price))
    }

    /// Mark-to-market equity at `p`, money units.
    #[inline]
    pub fn equity(&self, p: Price) -> i128 {
        self.account.equity(p, &self.p.scales)
    }

    /// Logs a line built from the exchange's state. Formatting decimals is the costliest part
    /// of a fill, so once the log is full the line is only counted, never formatted.
    fn log_with(&mut self, level: LogLevel, message: impl FnOnce(&Exchange) -> String) {
        if self.logs.has_room() {
            let m = message(self);
            self.logs.push(self.now, level, || m);
        } else {
            self.logs.push(self.now, level, String::new);
        }
    }

    fn record(&mut self, req: &OrderReq, kind: OrderType, price: Price) -> OrderId {
        let id = self.orders.len() as OrderId;
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
        });
        id
    }

    /// Checks size and funds; returns the quote and base the order must hold while it rests.
    fn check(&mut self, req: &OrderReq, price: Price) -> Result<(i128, i64), Refusal> {
        let s = self.p.scales;
        if price.0 <= 0 {
            self.log(LogLevel::Warning, || format!("{} order not placed: price must be positive", req.side.label()));
            return Err(Refusal::BadPrice);
        }
        if req.qty.0 <= 0 || req.qty.0 < self.p.min_lots {
            self.log_with(LogLevel::Warning, |ex| {
                let (q, min, base) =
                    (ex.qty_dec(req.qty), ex.p.market.minimum_trade_amount, &ex.p.market.base_currency);
                format!(
                    "{} order not placed: amount {q} {base} is below the minimum trade amount {min} {base} ({})",
                    req.side.label(),
                    req.role.note(req.tag)
                )
            });
            return Err(Refusal::BelowMinimum);
        }
        let tl = i128::from(price.0) * i128::from(req.qty.0);
        let fee = self.p.fee.fee(tl);
        let reduce = match (req.venue, req.target) {
            (Venue::Futures { .. }, Target::Reduce(pos)) => Some(pos),
            _ => None,
        };
        if let Some(pos) = reduce {
            let p = self.positions.get(pos as usize).filter(|p| p.open);
            if p.is_none_or(|p| p.qty - p.pending_reduce < req.qty.0) {
                self.log(LogLevel::Warning, || format!("{} order not placed: nothing left to close", req.side.label()));
                return Err(Refusal::NothingToReduce);
            }
            return Ok((0, 0));
        }
        let (need_quote, need_base) = match (req.venue, req.side) {
            (Venue::Spot, Side::Buy) => (s.ticklots_money(tl) + fee, 0),
            (Venue::Spot, Side::Sell) => (0, req.qty.0),
            (Venue::Futures { leverage }, _) => (margin_for(s.ticklots_money(tl), leverage) + fee, 0),
        };
        let (free_quote, free_base) = (self.account.free_quote(), self.account.free_base());
        if need_quote > free_quote || need_base > free_base {
            self.log_with(LogLevel::Error, |ex| {
                let (need, have, cur) = if need_base > 0 {
                    (ex.qty_dec(Qty(need_base)), ex.qty_dec(Qty(free_base)), &ex.p.market.base_currency)
                } else {
                    (ex.money_dec(need_quote), ex.money_dec(free_quote), &ex.p.market.quote_currency)
                };
                let verb = if req.side == Side::Buy { "PlaceBuyOrder" } else { "PlaceSellOrder" };
                // Six decimals like the reference's message, rounded (Display truncates).
                let six =
                    |d: Decimal| d.round_dp_with_strategy(6, rust_decimal::RoundingStrategy::MidpointAwayFromZero);
                let (need, have) = (six(need), six(have));
                format!(
                    "Blocking {verb}(). Insufficient funds. {need:.6} {cur} required. {have:.6} {cur} available. ({})",
                    req.role.note(req.tag)
                )
            });
            return Err(Refusal::InsufficientFunds);
        }
        Ok((need_quote, need_base))
    }

    fn release(&mut self, id: OrderId) {
        let o = &mut self.orders[id as usize];
        self.account.reserved_quote -= o.reserved_quote;
        self.account.reserved_base -= o.reserved_base;
        o.reserved_quote = 0;
        o.reserved_base = 0;
        if let (Venue::Futures { .. }, Target::Reduce(pos)) = (o.venue, o.target) {
            let p = &mut self.positions[pos as usize];
            p.pending_reduce = (p.pending_reduce - o.qty.0).max(0);
        }
    }
}

/// Isolated margin of a notional at a leverage, rounded up to the money unit.
pub(crate) fn margin_for(notional: i128, leverage: u32) -> i128 {
    let l = i128::from(leverage.max(1));
    (notional + l - 1).div_euclid(l)
}

mod positions;

#[cfg(test)]
mod tests;
