//! DCA bot (spot and futures, long or short).
//!
//! ```text
//! close, no deal ──▶ market base order ──▶ safety limits k=1..max  + take-profit limit
//!                                              │ a safety fills          │ TP fills
//!                                              ▼                         ▼
//!                                 cancel TP, place TP at the      cancel the safeties;
//!                                 new average and size            next deal at this close
//! ```
//!
//! Safety `k` rests at `base·(1 − Σ_{j<k} dev·step^j)` (short: `1 +`), sized
//! `safetyOrderAmount·volumeScale^(k−1)` of quote at the unrounded price. The take-profit is
//! `avg·(1 + tp + fee)/(1 − fee)` for a long and its mirror `avg·(1 − tp − fee)/(1 + fee)` for
//! a short, `avg` being Σ(price·qty)/Σqty over the deal's entries. Amounts are notionals: on
//! futures the margin posted is notional / leverage.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::error::{EngineError, ValidationError};
use crate::exchange::{Exchange, FillEvent, OrderReq, Refusal, Touch};
use crate::log::LogLevel;
use crate::order::Target;
use crate::price::{Price, Qty};
use crate::settings::{DcaDirection, DcaSettings};
use crate::vocabulary::{Direction, OrderId, OrderRole, PosId, Venue};

/// A safety order of the open deal: its order and what it was, so a resumed bot can place
/// it again after a stop cancelled it.
#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
struct Safety {
    order: OrderId,
    tag: u32,
    price: Price,
    qty: Qty,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
struct Deal {
    pos: PosId,
    safeties: Vec<Safety>,
    tp: Option<OrderId>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct DcaBot {
    venue: Venue,
    dir: Direction,
    base_amount: Decimal,
    /// Per safety order k (index k−1): the fraction below (long) / above (short) the base
    /// price, and the quote amount.
    safeties: Vec<(Decimal, Decimal)>,
    take_profit: Decimal,
    deal: Option<Deal>,
    /// Exchange epoch at which the base order was refused for funds: no retry until it moves.
    refused_at: Option<u64>,
    /// Whether "base order below the minimum" was already logged.
    told_too_small: bool,
    deals: u64,
    /// `takeProfit` was edited: the open deal's take-profit is re-placed at the next event.
    tp_changed: bool,
}

impl DcaBot {
    pub fn new(s: &DcaSettings, futures: bool) -> Result<Self, EngineError> {
        let venue = if futures { Venue::Futures { leverage: s.leverage() } } else { Venue::Spot };
        let dir = match s.direction {
            DcaDirection::Buy => Direction::Long,
            DcaDirection::Sell => Direction::Short,
        };
        let bad = |f: &str| EngineError::Settings(ValidationError::new(f, "is too large"));
        let mut safeties = Vec::with_capacity(s.max_safety_orders as usize);
        let mut amount = s.safety_order_amount;
        for k in 1..=s.max_safety_orders {
            let dev = s.total_deviation(k).ok_or_else(|| bad("priceDeviation"))?;
            safeties.push((dev, amount));
            amount = amount.checked_mul(s.safety_order_volume_scale).ok_or_else(|| bad("safetyOrderVolumeScale"))?;
        }
        Ok(Self {
            venue,
            dir,
            base_amount: s.base_order_amount,
            safeties,
            take_profit: s.take_profit / Decimal::ONE_HUNDRED,
            deal: None,
            refused_at: None,
            told_too_small: false,
            deals: 0,
            tp_changed: false,
        })
    }

    pub fn on_start(&mut self, ex: &mut Exchange) {
        let (dir, n) = (self.dir, self.safeties.len());
        ex.log(LogLevel::Info, || format!("DCA bot ({dir:?}) with {n} safety orders per deal"));
    }

    pub fn on_close(&mut self, ex: &mut Exchange, at: Touch) {
        if self.tp_changed {
            self.replace_take_profit(ex);
        }
        if self.deal.is_none() && self.refused_at != Some(ex.epoch) {
            self.open_deal(ex, at);
        }
    }

    /// `takeProfit` was edited: the open deal's take-profit moves to the new target.
    #[cold]
    fn replace_take_profit(&mut self, ex: &mut Exchange) {
        self.tp_changed = false;
        if let Some(deal) = &mut self.deal {
            let pos = deal.pos;
            if let Some(tp) = deal.tp.take() {
                ex.cancel(tp, "take profit changed");
            }
            self.place_take_profit(ex, pos);
        }
    }

    pub fn on_fill(&mut self, ex: &mut Exchange, ev: FillEvent) {
        let Some(deal) = &mut self.deal else { return };
        if ev.position != deal.pos {
            return;
        }
        match ev.role {
            OrderRole::DcaSafety => {
                deal.safeties.retain(|s| s.order != ev.order);
                // The take-profit is replaced at once: the old one stops being live now, the
                // new one (at the new average and size) is live from the next candle.
                if let Some(tp) = deal.tp.take() {
                    ex.cancel(tp, "take profit replaced");
                }
                let pos = deal.pos;
                self.place_take_profit(ex, pos);
            }
            OrderRole::DcaTakeProfit | OrderRole::Liquidation | OrderRole::Flatten => {
                if ex.position(deal.pos).is_some_and(|p| p.open) {
                    return;
                }
                for s in std::mem::take(&mut deal.safeties) {
                    ex.cancel(s.order, "deal closed");
                }
                if let Some(tp) = deal.tp.take() {
                    ex.cancel(tp, "deal closed");
                }
                self.deal = None;
            }
            _ => {}
        }
    }

    fn open_deal(&mut self, ex: &mut Exchange, at: Touch) {
        let side = self.dir.entry_side();
        let price = ex.market_price(side, at);
        let qty = self.base_amount.checked_div(ex.price_dec(price)).and_then(|q| ex.p.scales.floor_qty(q));
        let qty = qty.unwrap_or(Qty(0));
        if qty.0 < ex.p.min_lots.max(1) {
            // Retried silently at later closes (the price may move enough); said once.
            if !self.told_too_small {
                self.told_too_small = true;
                let (a, p) = (self.base_amount, ex.price_dec(price));
                ex.log(LogLevel::Warning, || {
                    format!("Base order not placed: {a} at {p} is below the minimum trade amount")
                });
            }
            return;
        }
        let req =
            OrderReq { side, qty, role: OrderRole::DcaBase, tag: 0, venue: self.venue, target: Target::New(self.dir) };
        let ev = match ex.place_market(req, at) {
            Ok(ev) => ev,
            Err(Refusal::InsufficientFunds) => {
                self.refused_at = Some(ex.epoch);
                return;
            }
            Err(_) => return,
        };
        self.refused_at = None;
        self.deals += 1;
        let pos = ev.position;
        let base = ex.price_dec(ev.price);
        let n = self.deals;
        ex.log(LogLevel::Info, || format!("Deal #{n} opened at {base}"));
        ex.decide("deal", "opened", |_| vec![("deal", n.to_string()), ("price", base.to_string())]);
        let mut safeties = Vec::with_capacity(self.safeties.len());
        for (k, &(dev, amount)) in self.safeties.iter().enumerate() {
            let factor = match self.dir {
                Direction::Long => Decimal::ONE - dev,
                Direction::Short => Decimal::ONE + dev,
            };
            let Some(raw) = base.checked_mul(factor) else { break };
            let qty = amount.checked_div(raw).and_then(|q| ex.p.scales.floor_qty(q));
            let (Some(limit), Some(qty)) = (ex.p.scales.round_price(raw), qty) else { continue };
            if limit.0 <= 0 {
                break;
            }
            let req = OrderReq {
                side,
                qty,
                role: OrderRole::DcaSafety,
                tag: k as u32 + 1,
                venue: self.venue,
                target: Target::Add(pos),
            };
            if let Ok(id) = ex.place_limit(req, limit) {
                safeties.push(Safety { order: id, tag: k as u32 + 1, price: limit, qty });
            }
        }
        self.deal = Some(Deal { pos, safeties, tp: None });
        self.place_take_profit(ex, pos);
    }

    /// Places the deal's take-profit for its whole open quantity at the current average.
    fn place_take_profit(&mut self, ex: &mut Exchange, pos: PosId) {
        let Some(p) = ex.position(pos) else { return };
        let (qty, value, entered) = (p.qty, p.entry_value, p.entry_qty);
        if qty <= 0 || entered <= 0 {
            return;
        }
        let s = ex.p.scales;
        let avg = s.ticklots_dec(value) / s.qty_dec(Qty(entered));
        let fee = ex.p.fee.rate;
        let tp = self.take_profit;
        let target = match self.dir {
            Direction::Long => {
                (Decimal::ONE + tp + fee).checked_div(Decimal::ONE - fee).and_then(|f| avg.checked_mul(f))
            }
            Direction::Short => {
                (Decimal::ONE - tp - fee).checked_div(Decimal::ONE + fee).and_then(|f| avg.checked_mul(f))
            }
        };
        let Some(limit) = target.and_then(|t| s.round_price(t)).filter(|p: &Price| p.0 > 0) else {
            ex.log(LogLevel::Error, || "Take-profit not placed: its price would not be positive".into());
            return;
        };
        let req = OrderReq {
            side: self.dir.exit_side(),
            qty: Qty(qty),
            role: OrderRole::DcaTakeProfit,
            tag: 0,
            venue: self.venue,
            target: Target::Reduce(pos),
        };
        let id = ex.place_limit(req, limit).ok();
        if let Some(d) = &mut self.deal {
            d.tp = id;
        }
    }
}

impl DcaBot {
    /// Brings the deal in line with the book after orders were cancelled from outside (stop,
    /// `cancel_all`, flatten): a deal whose position is closed is over; otherwise each safety
    /// order no longer open is placed again as it was, and the take-profit if it is gone.
    /// Only what is missing is placed, so nothing is placed twice.
    pub fn reconcile(&mut self, ex: &mut Exchange) {
        self.refused_at = None;
        let Some(deal) = &mut self.deal else { return };
        let pos = deal.pos;
        if !ex.position(pos).is_some_and(|p| p.open) {
            for s in std::mem::take(&mut deal.safeties) {
                ex.cancel(s.order, "deal closed");
            }
            if let Some(tp) = deal.tp.take() {
                ex.cancel(tp, "deal closed");
            }
            self.deal = None;
            return;
        }
        let (side, venue) = (self.dir.entry_side(), self.venue);
        let mut kept = Vec::with_capacity(deal.safeties.len());
        for s in std::mem::take(&mut deal.safeties) {
            if ex.is_open(s.order) {
                kept.push(s);
                continue;
            }
            let req =
                OrderReq { side, qty: s.qty, role: OrderRole::DcaSafety, tag: s.tag, venue, target: Target::Add(pos) };
            if let Ok(order) = ex.place_limit(req, s.price) {
                kept.push(Safety { order, ..s });
            }
        }
        deal.safeties = kept;
        if deal.tp.is_some_and(|tp| ex.is_open(tp)) {
            return;
        }
        deal.tp = None;
        self.place_take_profit(ex, pos);
    }

    /// Whether the open deal's position is kept.
    pub fn is_consistent(&self, ex: &Exchange) -> bool {
        self.deal.as_ref().is_none_or(|d| ex.position(d.pos).is_some())
    }

    /// Applies the editable settings: `takeProfit`, re-placed at the next event.
    pub fn update(&mut self, s: &DcaSettings) {
        let tp = s.take_profit / Decimal::ONE_HUNDRED;
        if tp != self.take_profit {
            self.take_profit = tp;
            self.tp_changed = true;
        }
    }
}
