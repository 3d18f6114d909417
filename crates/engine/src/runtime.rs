//! The state a live run keeps besides the exchange and the bot: signals waiting for the next
//! quote, the last touch, the RSI's bars, whether it is stopped. (The live API that changes it
//! is in `live.rs`.)

use serde::{Deserialize, Serialize};

use crate::bots::LiveSignal;
use crate::config::LiveConfig;
use crate::exchange::Touch;
use crate::price::Price;
use crate::settings::BotSettings;

/// Default RSI bar of a live run: one minute.
const DEFAULT_BAR_MS: i64 = 60_000;

/// The live run's own state.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct Live {
    /// `None` for a backtest.
    pub config: Option<LiveConfig>,
    /// Signals waiting for the next quote.
    pub signals: Vec<LiveSignal>,
    /// The last quote's touch.
    pub touch: Option<Touch>,
    /// Live: RSI bars of the bot's interval.
    pub bars: Option<Bars>,
    /// Stopped (`stop`, `flatten`): quotes still mark and match, the bot does not act.
    pub stopped: bool,
    /// Orders were cancelled from outside while running: the bot reconciles at the next quote.
    pub reconcile: bool,
}

impl Live {
    pub fn new(config: Option<LiveConfig>, settings: &BotSettings) -> Self {
        let bar = settings.interval().map_or(DEFAULT_BAR_MS, |m| i64::from(m).saturating_mul(60_000));
        let bars = config.is_some().then_some(Bars { len_ms: bar, current: None });
        Self { config, signals: Vec::new(), touch: None, bars, stopped: false, reconcile: false }
    }
}

/// Quotes aggregated into bars of `len_ms`, aligned on multiples of it since the epoch; a
/// bar's close is the `last` of its last quote. A bar without quotes gives no close.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct Bars {
    len_ms: i64,
    /// The bar being built: its index and last price so far.
    current: Option<(i64, Price)>,
}

impl Bars {
    /// A quote at `t`: returns the close of the bar it ends, if any.
    pub fn on_quote(&mut self, t: i64, last: Price) -> Option<Price> {
        let bar = t.div_euclid(self.len_ms);
        let closed = self.current.filter(|(b, _)| *b < bar).map(|(_, p)| p);
        self.current = Some((bar, last));
        closed
    }

    /// The clock reached `now` without a quote: returns the close of the bar that ended.
    pub fn on_tick(&mut self, now: i64) -> Option<Price> {
        let bar = now.div_euclid(self.len_ms);
        let (b, p) = self.current?;
        (b < bar).then(|| {
            self.current = None;
            p
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn a_bar_closes_once_at_the_first_quote_or_tick_past_its_end() {
        let mut b = Bars { len_ms: 60_000, current: None };
        assert_eq!(b.on_quote(1_000, Price(100)), None);
        assert_eq!(b.on_quote(59_999, Price(101)), None, "same bar");
        assert_eq!(b.on_quote(60_000, Price(102)), Some(Price(101)), "the last quote of bar 0");
        assert_eq!(b.on_tick(119_999), None, "bar 1 has not ended");
        assert_eq!(b.on_tick(120_000), Some(Price(102)));
        assert_eq!(b.on_tick(180_000), None, "a bar without quotes gives no close");
        assert_eq!(b.on_quote(200_000, Price(103)), None, "bar 1 was closed by the tick, not again");
        assert_eq!(b.on_quote(240_000, Price(104)), Some(Price(103)));
    }
}
