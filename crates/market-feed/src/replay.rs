//! One replayed symbol: its price path published as quotes at a steady pace.

use crate::board::{Board, Mode, now_ms};
use crate::path::{POINTS_PER_CANDLE, PricePath};
use anyhow::Context;
use bus::messages::market::{MarketSymbol, QuoteMsg};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tokio::time::{Instant, MissedTickBehavior};
use tokio_util::sync::CancellationToken;

/// A symbol ready to be replayed.
pub struct Replay {
    /// The symbol its quotes carry.
    pub symbol: MarketSymbol,
    /// Its candle file.
    pub path: PricePath,
    /// Ticks between the price and the bid (and between the price and the ask).
    pub half_spread_ticks: u32,
    /// Time between two quotes.
    pub period: Duration,
}

impl Replay {
    /// The time between quotes for `speed` candles per second (four quotes per candle).
    pub fn period(speed: f64) -> Duration {
        Duration::from_secs_f64(1.0 / (speed * POINTS_PER_CANDLE as f64))
    }

    /// Publishes the path, one point per period, until `shutdown`. A `hold` stops it in
    /// place; `replay` resumes from the next point at the normal pace (no catch-up burst).
    pub async fn run(
        self,
        board: Arc<Board>,
        mut mode: watch::Receiver<Mode>,
        shutdown: CancellationToken,
    ) -> anyhow::Result<()> {
        let mut interval = tokio::time::interval(self.period);
        // A late tick (a busy machine) is made up for, so the average pace is `speed`.
        interval.set_missed_tick_behavior(MissedTickBehavior::Burst);
        let mut step: u64 = 0;
        let mut last_time_ms = i64::MIN;
        loop {
            tokio::select! {
                () = shutdown.cancelled() => return Ok(()),
                _ = interval.tick() => {}
            }
            let price = self.path.price(step);
            let (bid, ask) = self.path.bid_ask(price, self.half_spread_ticks);
            // The wall clock, nudged past the previous quote when it has not moved on (or went
            // back), so a symbol's replayed quote times strictly increase.
            let time_ms = now_ms().max(last_time_ms.saturating_add(1));
            let quote = QuoteMsg::new(self.symbol.clone(), time_ms, bid, ask, price)
                .with_context(|| format!("building a quote of {} from its candle file", self.symbol))?;
            if board.publish_replayed(quote).await.with_context(|| format!("publishing {}", self.symbol))? {
                step = step.wrapping_add(1);
                last_time_ms = time_ms;
                continue;
            }
            tokio::select! {
                () = shutdown.cancelled() => return Ok(()),
                changed = mode.wait_for(|mode| *mode == Mode::Replay) => {
                    changed.context("the board went away")?;
                }
            }
            interval.reset_at(Instant::now());
        }
    }
}
