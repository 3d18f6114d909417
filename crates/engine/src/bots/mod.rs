//! The bot strategies. Each reacts to three things: the start of the run, a candle close (or
//! quote), and a fill of one of its orders. They act only through the [`Exchange`].

pub(crate) mod conditions;
pub(crate) mod dca;
pub(crate) mod grid;
pub(crate) mod webhook;

use crate::error::EngineError;
use crate::exchange::{Exchange, FillEvent, Touch};
use crate::settings::BotSettings;

pub use conditions::RSI_PERIOD;

/// One bot of any type (an enum rather than a trait object: the hot loop matches on it).
#[derive(Clone, Debug)]
pub(crate) enum Bot {
    Grid(grid::GridBot),
    Dca(dca::DcaBot),
    Webhook(webhook::WebhookBot),
}

impl Bot {
    pub fn new(settings: &BotSettings, ex: &Exchange) -> Result<Self, EngineError> {
        let (s, min) = (&ex.p.scales, ex.p.min_lots);
        Ok(match settings {
            BotSettings::SpotGrid(g) => Self::Grid(grid::GridBot::new(g, false, s, min)?),
            BotSettings::FuturesGrid(g) => Self::Grid(grid::GridBot::new(g, true, s, min)?),
            BotSettings::SpotDca(d) => Self::Dca(dca::DcaBot::new(d, false)?),
            BotSettings::FuturesDca(d) => Self::Dca(dca::DcaBot::new(d, true)?),
            BotSettings::Webhook(w) => Self::Webhook(webhook::WebhookBot::new(w)),
        })
    }

    pub fn on_start(&mut self, ex: &mut Exchange) {
        match self {
            Self::Grid(b) => b.on_start(ex),
            Self::Dca(b) => b.on_start(ex),
            Self::Webhook(b) => b.on_start(ex),
        }
    }

    #[inline]
    pub fn on_close(&mut self, ex: &mut Exchange, at: Touch, time: i64) {
        match self {
            Self::Grid(b) => b.on_close(ex, at),
            Self::Dca(b) => b.on_close(ex, at),
            Self::Webhook(b) => b.on_close(ex, at, time),
        }
    }

    pub fn on_fill(&mut self, ex: &mut Exchange, ev: FillEvent) {
        match self {
            Self::Grid(b) => b.on_fill(ex, ev),
            Self::Dca(b) => b.on_fill(ex, ev),
            Self::Webhook(_) => {}
        }
    }

    pub fn on_finish(&mut self, ex: &mut Exchange) {
        if let Self::Webhook(b) = self {
            b.on_finish(ex);
        }
    }
}
