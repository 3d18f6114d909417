//! The bot strategies. Each reacts to the start of the run, a candle close (or quote), and a
//! fill of one of its orders; a live run also brings signals, bar closes of the RSI's
//! interval, settings edits, and orders cancelled from outside (stop, `cancel_all`, flatten)
//! that the bot reconciles with. They act only through the [`Exchange`].

pub(crate) mod conditions;
pub(crate) mod dca;
pub(crate) mod grid;
pub(crate) mod webhook;

use serde::{Deserialize, Serialize};

use crate::error::EngineError;
use crate::events::SignalOutcome;
use crate::exchange::{Exchange, FillEvent, Touch};
use crate::price::Price;
use crate::settings::BotSettings;

pub use conditions::RSI_PERIOD;
pub use webhook::LiveSignal;

/// One bot of any type (an enum rather than a trait object: the hot loop matches on it).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) enum Bot {
    Grid(grid::GridBot),
    Dca(dca::DcaBot),
    Webhook(webhook::WebhookBot),
}

impl Bot {
    /// `live`: the bot runs on quotes, its RSI fed bars (see [`Bot::on_bar`]).
    pub fn new(settings: &BotSettings, ex: &Exchange, live: bool) -> Result<Self, EngineError> {
        let (s, min) = (&ex.p.scales, ex.p.min_lots);
        Ok(match settings {
            BotSettings::SpotGrid(g) => Self::Grid(grid::GridBot::new(g, false, s, min, live)?),
            BotSettings::FuturesGrid(g) => Self::Grid(grid::GridBot::new(g, true, s, min, live)?),
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

    // Always inlined: it runs at every candle, and a call here costs a backtest more than the
    // dispatch itself.
    #[inline(always)]
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

    /// A bar of the bot's interval closed (live).
    pub fn on_bar(&mut self, close: Price) {
        if let Self::Grid(b) = self {
            b.on_bar(close);
        }
    }

    /// A live signal at the quote `at`: only a webhook bot acts on signals.
    pub fn on_signal(&mut self, ex: &mut Exchange, s: &LiveSignal, at: Touch) -> SignalOutcome {
        match self {
            Self::Webhook(b) => b.on_signal(ex, s, at),
            _ => SignalOutcome::Refused { reason: "the bot does not act on signals".into() },
        }
    }

    /// Orders were cancelled from outside: see each bot's `reconcile`.
    pub fn reconcile(&mut self, ex: &mut Exchange) {
        match self {
            Self::Grid(b) => b.reconcile(ex),
            Self::Dca(b) => b.reconcile(ex),
            Self::Webhook(_) => {}
        }
    }

    /// Resumes after a stop: a bot that deactivated itself is re-armed, and every bot
    /// reconciles with the book.
    pub fn resume(&mut self, ex: &mut Exchange) {
        match self {
            Self::Grid(b) => b.rearm(ex),
            Self::Dca(b) => b.reconcile(ex),
            Self::Webhook(_) => {}
        }
    }

    /// Whether every position the bot refers to is kept (restored checkpoints are checked).
    pub fn is_consistent(&self, ex: &Exchange) -> bool {
        match self {
            Self::Grid(b) => b.is_consistent(ex),
            Self::Dca(b) => b.is_consistent(ex),
            Self::Webhook(b) => b.is_consistent(),
        }
    }

    /// Applies edited settings (already checked to differ only in editable keys).
    pub fn update(&mut self, settings: &BotSettings, ex: &Exchange) {
        match (self, settings) {
            (Self::Grid(b), BotSettings::SpotGrid(g) | BotSettings::FuturesGrid(g)) => b.update(g, &ex.p.scales),
            (Self::Dca(b), BotSettings::SpotDca(d) | BotSettings::FuturesDca(d)) => b.update(d),
            _ => {}
        }
    }
}
