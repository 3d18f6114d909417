//! Balances of the one account a run trades: quote, base, and the aggregates of its open
//! futures positions, so equity at any price is O(1) whatever the number of positions.
//!
//! ```text
//! equity(p) = quote + Σ margin + (base·p + Σlong (q·p − cost) − Σshort (q·p − cost)) · 10^fd
//! ```

use serde::{Deserialize, Serialize};

use crate::price::{Price, Scales};
use crate::vocabulary::Direction;

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Account {
    /// Wallet, money units (futures margin is moved out of it while posted).
    pub quote: i128,
    /// Base held, lots.
    pub base: i64,
    /// Quote held by resting orders (notional + fee of buys, margin + fee of futures entries).
    pub reserved_quote: i128,
    /// Base held by resting sells.
    pub reserved_base: i64,
    /// Margin posted on open futures positions, money units.
    pub margin: i128,
    pub long_qty: i64,
    /// Cost basis of open longs, tick·lots.
    pub long_cost: i128,
    pub short_qty: i64,
    pub short_cost: i128,
}

impl Account {
    pub fn free_quote(&self) -> i128 {
        self.quote - self.reserved_quote
    }

    pub fn free_base(&self) -> i64 {
        self.base - self.reserved_base
    }

    /// Mark-to-market equity at `p`, money units.
    #[inline]
    pub fn equity(&self, p: Price, s: &Scales) -> i128 {
        let p = i128::from(p.0);
        let spot = i128::from(self.base) * p;
        let long = i128::from(self.long_qty) * p - self.long_cost;
        let short = self.short_cost - i128::from(self.short_qty) * p;
        self.quote + self.margin + (spot + long + short) * s.pow_fd
    }

    /// Updates the futures aggregates by a change of a position's quantity and cost.
    pub fn shift(&mut self, dir: Direction, dq: i64, dcost: i128) {
        match dir {
            Direction::Long => {
                self.long_qty += dq;
                self.long_cost += dcost;
            }
            Direction::Short => {
                self.short_qty += dq;
                self.short_cost += dcost;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn equity_marks_spot_and_futures() {
        let s = Scales::new(0, 0, 0);
        let mut a = Account { quote: 1000, base: 2, ..Account::default() };
        assert_eq!(a.equity(Price(10), &s), 1020);
        a.margin = 50;
        a.shift(Direction::Long, 5, 500); // 5 @ 100
        a.shift(Direction::Short, 1, 100); // 1 @ 100
        // 1000 + 50 + 2·110 + (550 − 500) + (100 − 110)
        assert_eq!(a.equity(Price(110), &s), 1310);
    }
}
