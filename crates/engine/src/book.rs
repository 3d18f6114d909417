//! Resting orders and liquidation triggers, and which of them a price crosses.
//!
//! ```text
//!            crossed when the probe is ≥ the entry     (sells, short liquidations)
//!   min_sell ─────────────────────────────────────────
//!              ... the market, usually, in between ...
//!   max_buy  ─────────────────────────────────────────
//!            crossed when the probe is ≤ the entry     (buys, long liquidations)
//! ```
//!
//! The best entry of each kind is cached, so a candle that crosses nothing costs two integer
//! comparisons (`low ≤ best_below`, `high ≥ best_above`). Entries placed during a step wait
//! in `pending` and go live at the start of the next one (candle `t+1`, or the next quote);
//! removal (a cancel, a fill) takes effect at once. Liquidation triggers are not orders: they
//! are live as soon as they are set. The book is small (a grid's levels, a deal's safety
//! orders), so it is a plain vector scanned on the rare occasions something crosses.

use serde::{Deserialize, Serialize};

use crate::vocabulary::{OrderId, PosId};

/// What kind of entry rests, which decides which probe price crosses it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum Kind {
    BuyLimit,
    SellLimit,
    /// A long position's liquidation: crossed when the price falls to it.
    LongLiquidation,
    /// A short position's liquidation: crossed when the price rises to it.
    ShortLiquidation,
}

/// The order or position an entry stands for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum What {
    Order(OrderId),
    Liquidation(PosId),
}

#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
pub(crate) struct Resting {
    /// Limit price or liquidation trigger, ticks.
    pub price: i64,
    pub kind: Kind,
    /// Tie-break after price priority (DCA safety orders before take-profits).
    pub rank: u8,
    /// Placement sequence: the last tie-break.
    pub seq: u64,
    pub what: What,
}

/// The prices the market offers each kind of entry at one moment. On a candle's walked point
/// they are all that point; on a quote, buys see the ask and sells the bid, and a long is
/// liquidated by selling at the bid, a short by buying at the ask.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Probe {
    pub buy: i64,
    pub sell: i64,
    pub long_liq: i64,
    pub short_liq: i64,
}

impl Probe {
    pub fn point(x: i64) -> Self {
        Self { buy: x, sell: x, long_liq: x, short_liq: x }
    }

    /// How far past the entry the probe is, or `None` if it does not cross it.
    fn depth(&self, r: &Resting) -> Option<i64> {
        let d = match r.kind {
            Kind::BuyLimit => r.price - self.buy,
            Kind::LongLiquidation => r.price - self.long_liq,
            Kind::SellLimit => self.sell - r.price,
            Kind::ShortLiquidation => self.short_liq - r.price,
        };
        (d >= 0).then_some(d)
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct Book {
    live: Vec<Resting>,
    pending: Vec<Resting>,
    seq: u64,
    max_buy: i64,
    max_long_liq: i64,
    min_sell: i64,
    min_short_liq: i64,
}

impl Book {
    pub fn new() -> Self {
        Self {
            live: Vec::new(),
            pending: Vec::new(),
            seq: 0,
            max_buy: i64::MIN,
            max_long_liq: i64::MIN,
            min_sell: i64::MAX,
            min_short_liq: i64::MAX,
        }
    }

    /// Highest price a falling market can cross (buys, long liquidations).
    #[inline]
    pub fn best_below(&self) -> i64 {
        self.max_buy.max(self.max_long_liq)
    }

    /// Lowest price a rising market can cross (sells, short liquidations).
    #[inline]
    pub fn best_above(&self) -> i64 {
        self.min_sell.min(self.min_short_liq)
    }

    /// Whether anything live is crossed by `p`.
    #[inline]
    pub fn crosses(&self, p: &Probe) -> bool {
        p.buy <= self.max_buy
            || p.sell >= self.min_sell
            || p.long_liq <= self.max_long_liq
            || p.short_liq >= self.min_short_liq
    }

    #[inline]
    pub fn has_pending(&self) -> bool {
        !self.pending.is_empty()
    }

    /// Queues an order; it goes live at [`Book::activate`].
    pub fn add_pending(&mut self, price: i64, kind: Kind, rank: u8, what: What) {
        self.seq += 1;
        self.pending.push(Resting { price, kind, rank, seq: self.seq, what });
    }

    /// Makes the pending entries live (start of a candle or quote).
    pub fn activate(&mut self) {
        for r in self.pending.drain(..) {
            Self::widen(&mut self.max_buy, &mut self.max_long_liq, &mut self.min_sell, &mut self.min_short_liq, &r);
            self.live.push(r);
        }
    }

    /// Sets (or clears, with `None`) a position's liquidation trigger; live at once.
    pub fn set_liquidation(&mut self, pos: PosId, trigger: Option<(i64, Kind)>) {
        self.remove(What::Liquidation(pos));
        if let Some((price, kind)) = trigger {
            self.seq += 1;
            let r = Resting { price, kind, rank: 1, seq: self.seq, what: What::Liquidation(pos) };
            Self::widen(&mut self.max_buy, &mut self.max_long_liq, &mut self.min_sell, &mut self.min_short_liq, &r);
            self.live.push(r);
        }
    }

    /// Removes an entry, live or pending. Returns whether it was there.
    pub fn remove(&mut self, what: What) -> bool {
        if let Some(i) = self.pending.iter().position(|r| r.what == what) {
            self.pending.swap_remove(i);
            return true;
        }
        if let Some(i) = self.live.iter().position(|r| r.what == what) {
            self.live.swap_remove(i);
            self.recompute();
            return true;
        }
        false
    }

    /// Takes the live entry `p` crosses first: deepest first (price priority), then by rank,
    /// then by placement.
    pub fn take_crossed(&mut self, p: &Probe) -> Option<Resting> {
        let mut best: Option<(usize, (i64, u8, u64))> = None;
        for (i, r) in self.live.iter().enumerate() {
            if let Some(d) = p.depth(r) {
                let key = (-d, r.rank, r.seq);
                if best.is_none_or(|(_, k)| key < k) {
                    best = Some((i, key));
                }
            }
        }
        let (i, _) = best?;
        let r = self.live.swap_remove(i);
        self.recompute();
        Some(r)
    }

    /// Every entry, live or pending (restored checkpoints are checked against the orders).
    pub fn entries(&self) -> impl Iterator<Item = &Resting> {
        self.live.iter().chain(&self.pending)
    }

    /// Recomputes the cached best prices from the live entries.
    pub fn refresh(&mut self) {
        self.recompute();
    }

    /// Orders resting or pending, in placement order.
    pub fn orders(&self) -> Vec<OrderId> {
        let mut v: Vec<(u64, OrderId)> = self
            .live
            .iter()
            .chain(&self.pending)
            .filter_map(|r| match r.what {
                What::Order(o) => Some((r.seq, o)),
                What::Liquidation(_) => None,
            })
            .collect();
        v.sort_unstable();
        v.into_iter().map(|(_, o)| o).collect()
    }

    fn widen(max_buy: &mut i64, max_long: &mut i64, min_sell: &mut i64, min_short: &mut i64, r: &Resting) {
        match r.kind {
            Kind::BuyLimit => *max_buy = (*max_buy).max(r.price),
            Kind::LongLiquidation => *max_long = (*max_long).max(r.price),
            Kind::SellLimit => *min_sell = (*min_sell).min(r.price),
            Kind::ShortLiquidation => *min_short = (*min_short).min(r.price),
        }
    }

    fn recompute(&mut self) {
        self.max_buy = i64::MIN;
        self.max_long_liq = i64::MIN;
        self.min_sell = i64::MAX;
        self.min_short_liq = i64::MAX;
        for r in &self.live {
            Self::widen(&mut self.max_buy, &mut self.max_long_liq, &mut self.min_sell, &mut self.min_short_liq, r);
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;
    use crate::vocabulary::OrderRole;

    fn ids(b: &mut Book, p: Probe) -> Vec<What> {
        std::iter::from_fn(|| b.take_crossed(&p)).map(|r| r.what).collect()
    }

    #[test]
    fn pending_orders_are_not_live_until_activated() {
        let mut b = Book::new();
        b.add_pending(100, Kind::BuyLimit, 1, What::Order(0));
        assert!(!b.crosses(&Probe::point(90)));
        assert!(b.take_crossed(&Probe::point(90)).is_none());
        b.activate();
        assert_eq!(b.best_below(), 100);
        assert_eq!(ids(&mut b, Probe::point(90)), vec![What::Order(0)]);
        assert_eq!(b.best_below(), i64::MIN);
    }

    #[test]
    fn price_priority_then_rank_then_sequence() {
        let mut b = Book::new();
        b.add_pending(95, Kind::BuyLimit, 1, What::Order(0));
        b.add_pending(99, Kind::BuyLimit, 1, What::Order(1));
        b.add_pending(97, Kind::BuyLimit, 2, What::Order(2));
        b.add_pending(97, Kind::BuyLimit, 0, What::Order(3));
        b.add_pending(101, Kind::SellLimit, 1, What::Order(4));
        b.activate();
        assert_eq!(
            ids(&mut b, Probe::point(96)),
            vec![What::Order(1), What::Order(3), What::Order(2)],
            "99 first, then the two 97s by rank; 95 and the sell are not crossed"
        );
        assert_eq!(b.best_below(), 95);
        assert_eq!(b.best_above(), 101);
    }

    #[test]
    fn safety_orders_before_the_take_profit_at_one_point() {
        // A (degenerate) deal whose safety buy and take-profit sell are both crossed, equally
        // deep, at one point: the safety order is matched first.
        let mut b = Book::new();
        b.add_pending(100, Kind::SellLimit, OrderRole::DcaTakeProfit.rank(), What::Order(0));
        b.add_pending(100, Kind::BuyLimit, OrderRole::DcaSafety.rank(), What::Order(1));
        b.activate();
        assert_eq!(ids(&mut b, Probe::point(100)), vec![What::Order(1), What::Order(0)]);
    }

    #[test]
    fn removal_is_immediate_and_updates_the_cache() {
        let mut b = Book::new();
        b.add_pending(105, Kind::SellLimit, 1, What::Order(7));
        b.add_pending(103, Kind::SellLimit, 1, What::Order(8));
        b.activate();
        assert!(b.remove(What::Order(8)));
        assert_eq!(b.best_above(), 105);
        assert!(!b.crosses(&Probe::point(104)));
        assert!(!b.remove(What::Order(8)));
    }

    #[test]
    fn liquidations_are_live_at_once() {
        let mut b = Book::new();
        b.set_liquidation(3, Some((80, Kind::LongLiquidation)));
        assert_eq!(ids(&mut b, Probe::point(80)), vec![What::Liquidation(3)]);
        b.set_liquidation(4, Some((120, Kind::ShortLiquidation)));
        b.set_liquidation(4, None);
        assert!(!b.crosses(&Probe::point(200)));
    }

    #[test]
    fn quote_probe_uses_ask_for_buys_and_bid_for_sells() {
        let mut b = Book::new();
        b.add_pending(100, Kind::BuyLimit, 1, What::Order(0));
        b.add_pending(102, Kind::SellLimit, 1, What::Order(1));
        b.activate();
        let q = Probe { buy: 101, sell: 101, long_liq: 101, short_liq: 101 };
        assert!(!b.crosses(&q));
        let q = Probe { buy: 100, sell: 99, long_liq: 99, short_liq: 100 };
        assert_eq!(ids(&mut b, q), vec![What::Order(0)]);
    }
}
