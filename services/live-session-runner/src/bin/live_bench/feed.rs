//! The quotes: each market's price path walked from its candle file (open, high, low, close of
//! each candle, forward then backward when the file runs out), published on the market's quote
//! subject as the market feed does, stamped with the wall clock, bid and ask one tick around
//! the price. Between phases (`--ledger`: while the ledger catches up) the last quotes are
//! repeated, as a live feed keeps quoting a market whose price does not move.

use crate::fixture::Sim;
use anyhow::Context as _;
use bus::Subjects;
use bus::messages::market::{MarketSymbol, QuoteMsg};
use rust_decimal::Decimal;
use std::path::Path;
use std::str::FromStr;

/// One market's price path and where the walk is.
pub struct PricePath {
    symbol: MarketSymbol,
    prices: Vec<Decimal>,
    next: usize,
}

/// A price tick of both SIM markets (2 price decimals).
const TICK: Decimal = Decimal::from_parts(1, 0, 0, false, 2);

impl PricePath {
    /// Reads `market`'s candle file from `dir` (`timestamp_ms,open,high,low,close,volume`).
    pub fn load(dir: &Path, market: Sim) -> anyhow::Result<Self> {
        let file = dir.join(market.candles());
        let text = std::fs::read_to_string(&file).with_context(|| format!("reading {}", file.display()))?;
        let mut prices = Vec::new();
        for (number, line) in text.lines().enumerate().skip(1) {
            let fields: Vec<&str> = line.split(',').collect();
            let [_, open, high, low, close, _] = fields[..] else {
                anyhow::bail!("{} line {}: expected 6 fields", file.display(), number + 1);
            };
            for field in [open, high, low, close] {
                let price = Decimal::from_str(field)
                    .with_context(|| format!("{} line {}: {field:?}", file.display(), number + 1))?;
                // Two decimals, as the market quotes them, and at least two ticks (bid > 0).
                prices.push(price.round_dp(2).max(TICK * Decimal::TWO));
            }
        }
        anyhow::ensure!(!prices.is_empty(), "{}: no candles", file.display());
        Ok(Self { symbol: MarketSymbol::new(market.symbol())?, prices, next: 0 })
    }

    /// The next quote of the walk, at `time_ms`.
    pub fn next_quote(&mut self, time_ms: i64) -> anyhow::Result<QuoteMsg> {
        let quote = self.quote_at(self.next, time_ms)?;
        self.next += 1;
        Ok(quote)
    }

    /// The last quote of the walk again, at `time_ms` (`None` before the first).
    pub fn same_quote(&self, time_ms: i64) -> anyhow::Result<Option<QuoteMsg>> {
        self.next.checked_sub(1).map(|last| self.quote_at(last, time_ms)).transpose()
    }

    /// The quote of step `step` of the walk, at `time_ms`.
    fn quote_at(&self, step: usize, time_ms: i64) -> anyhow::Result<QuoteMsg> {
        let len = self.prices.len();
        let step = step % (2 * len);
        let price = if step < len { self.prices[step] } else { self.prices[2 * len - 1 - step] };
        Ok(QuoteMsg::new(self.symbol.clone(), time_ms, price - TICK, price + TICK, price)?)
    }
}

/// Publishes quotes as the market feed does.
pub struct Publisher {
    client: async_nats::Client,
    subjects: Subjects,
    /// One path per market, in [`Sim::ALL`] order.
    paths: Vec<PricePath>,
}

impl Publisher {
    /// A publisher of both markets' paths under `subjects`.
    pub fn new(client: async_nats::Client, subjects: Subjects, paths: Vec<PricePath>) -> Self {
        Self { client, subjects, paths }
    }

    /// The subjects it publishes under.
    pub fn subjects(&self) -> &Subjects {
        &self.subjects
    }

    /// How many markets a round publishes to.
    pub fn markets(&self) -> usize {
        self.paths.len()
    }

    /// One quote on each market, stamped now, flushed.
    pub async fn round(&mut self) -> anyhow::Result<()> {
        let now = chrono::Utc::now().timestamp_millis();
        let quotes = self.paths.iter_mut().map(|path| path.next_quote(now)).collect::<anyhow::Result<Vec<_>>>()?;
        self.publish(&quotes).await
    }

    /// Each market's last quote again, stamped now: the market stays alive (a market silent
    /// for 10 s makes every bot on it warn that its data is stale) and its price stays.
    pub async fn repeat(&self) -> anyhow::Result<()> {
        let now = chrono::Utc::now().timestamp_millis();
        let quotes = self
            .paths
            .iter()
            .filter_map(|path| path.same_quote(now).transpose())
            .collect::<anyhow::Result<Vec<_>>>()?;
        self.publish(&quotes).await
    }

    /// Publishes `quotes` on their markets' subjects, flushed.
    async fn publish(&self, quotes: &[QuoteMsg]) -> anyhow::Result<()> {
        for quote in quotes {
            let payload = serde_json::to_vec(quote)?;
            let subject = self.subjects.quote(&quote.symbol);
            self.client.publish(subject.subject().to_string(), payload.into()).await.context("publishing a quote")?;
        }
        self.client.flush().await.context("flushing the quotes")
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use rust_decimal::dec;

    #[test]
    fn the_walk_goes_forward_then_back() {
        let prices = vec![dec!(10), dec!(11), dec!(12)];
        let mut path = PricePath { symbol: MarketSymbol::new("SIM_BTC_USDT_").unwrap(), prices, next: 0 };
        let walked: Vec<Decimal> = (0..7).map(|_| path.next_quote(1).unwrap().last).collect();
        assert_eq!(walked, [dec!(10), dec!(11), dec!(12), dec!(12), dec!(11), dec!(10), dec!(10)]);
        let quote = path.next_quote(1).unwrap();
        assert_eq!((quote.bid, quote.ask), (dec!(10.99), dec!(11.01)));
    }

    #[test]
    fn a_repeated_quote_keeps_the_last_price_and_the_walk_where_it_is() {
        let prices = vec![dec!(10), dec!(11), dec!(12)];
        let mut path = PricePath { symbol: MarketSymbol::new("SIM_BTC_USDT_").unwrap(), prices, next: 0 };
        assert!(path.same_quote(1).unwrap().is_none(), "nothing quoted yet");
        path.next_quote(1).unwrap();
        path.next_quote(2).unwrap();
        let repeated = path.same_quote(3).unwrap().unwrap();
        assert_eq!((repeated.last, repeated.time_ms), (dec!(11), 3));
        assert_eq!(path.next_quote(4).unwrap().last, dec!(12));
    }
}
