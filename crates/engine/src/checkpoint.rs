//! Checkpoints: the whole state of a run (account, book, orders, positions, the bot's state
//! machine and indicators, the equity tracker, events not yet drained, signals waiting for
//! a quote), serde-serialisable and versioned, so a restarted runner resumes a bot exactly
//! where it stood, without placing any order twice.
//!
//! The format is externally tagged by version (`{"v1": {...}}`): a later layout adds `v2`
//! and converts `v1` on restore. Money is `i128` in the state: formats that carry it (JSON,
//! bincode, postcard) are fine; the state is never put through an internally tagged or
//! untagged serde enum, which cannot hold 128-bit integers.

use serde::{Deserialize, Serialize};

use crate::bots::Bot;
use crate::engine::Engine;
use crate::equity::EquityTracker;
use crate::error::EngineError;
use crate::exchange::Exchange;
use crate::fees::FeeRate;
use crate::order::Target;
use crate::price::{Price, Scales};
use crate::runtime::Live;
use crate::settings::BotSettings;
use crate::vocabulary::OrderStatus;

/// The saved state of an [`Engine`]: [`Engine::checkpoint`] makes it, [`Engine::restore`]
/// rebuilds the engine from it.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(transparent)]
pub struct EngineState(Versioned);

#[derive(Clone, Debug, Serialize, Deserialize)]
enum Versioned {
    #[serde(rename = "v1")]
    V1(Box<StateV1>),
}

/// Layout 1: the engine's fields.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct StateV1 {
    settings: BotSettings,
    ex: Exchange,
    bot: Bot,
    eq: Option<EquityTracker>,
    interval: i64,
    days_per_year: u32,
    equity_points: usize,
    starting_quote: i128,
    starting_base: i64,
    first_open: Option<Price>,
    last_close: Option<Price>,
    start_time: i64,
    last_event: Option<i64>,
    end_time: i64,
    candles: u64,
    skipped: u64,
    futures: bool,
    live: Live,
}

impl EngineState {
    /// The layout version (1).
    pub fn version(&self) -> u32 {
        match self.0 {
            Versioned::V1(_) => 1,
        }
    }
}

impl Engine {
    /// The whole state of the run, to save after a drain was persisted.
    pub fn checkpoint(&self) -> EngineState {
        let Engine {
            settings,
            ex,
            bot,
            eq,
            interval,
            days_per_year,
            equity_points,
            starting_quote,
            starting_base,
            first_open,
            last_close,
            start_time,
            last_event,
            end_time,
            candles,
            skipped,
            futures,
            live,
        } = self.clone();
        EngineState(Versioned::V1(Box::new(StateV1 {
            settings,
            ex,
            bot,
            eq,
            interval,
            days_per_year,
            equity_points,
            starting_quote,
            starting_base,
            first_open,
            last_close,
            start_time,
            last_event,
            end_time,
            candles,
            skipped,
            futures,
            live,
        })))
    }

    /// Rebuilds an engine from a checkpoint. Fed the same inputs afterwards, it produces the
    /// same events and report as the engine the checkpoint was taken from. A state that is
    /// not consistent (a corrupted or hand-edited checkpoint) is refused.
    pub fn restore(state: EngineState) -> Result<Engine, EngineError> {
        let Versioned::V1(s) = state.0;
        let StateV1 {
            settings,
            mut ex,
            bot,
            eq,
            interval,
            days_per_year,
            equity_points,
            starting_quote,
            starting_base,
            first_open,
            last_close,
            start_time,
            last_event,
            end_time,
            candles,
            skipped,
            futures,
            live,
        } = *s;
        settings.validate()?;
        check(&ex, &bot).map_err(|why| EngineError::Checkpoint(why.to_owned()))?;
        if interval <= 0 || days_per_year == 0 {
            return Err(EngineError::Checkpoint("interval and annualisation days must be positive".into()));
        }
        ex.book.refresh();
        Ok(Engine {
            settings,
            ex,
            bot,
            eq,
            interval,
            days_per_year,
            equity_points,
            starting_quote,
            starting_base,
            first_open,
            last_close,
            start_time,
            last_event,
            end_time,
            candles,
            skipped,
            futures,
            live,
        })
    }
}

/// The invariants the engine relies on (it indexes orders and positions by the ids it
/// refers to): every id referred to is kept, balances held equal the open orders' holds.
fn check(ex: &Exchange, bot: &Bot) -> Result<(), &'static str> {
    ex.p.market.validate().map_err(|_| "the market is invalid")?;
    let fee = FeeRate::new(ex.p.fee.rate).map_err(|_| "the fee rate is invalid")?;
    let p = &ex.p;
    if fee != p.fee || p.scales != Scales::new(p.market.price_decimals, p.market.amount_decimals, fee.decimals) {
        return Err("the scales do not match the market and fee rate");
    }
    if !ex.orders.is_consistent() || !ex.positions.is_consistent() || !ex.journal.is_consistent() {
        return Err("the order, position or event lists are inconsistent");
    }
    for r in ex.book.entries() {
        let ok = match r.what {
            crate::book::What::Order(id) => ex.orders.get(id).is_some_and(|o| o.status == OrderStatus::Open),
            crate::book::What::Liquidation(pos) => ex.positions.get(pos).is_some_and(|p| p.open),
        };
        if !ok {
            return Err("the book refers to an order or position that is not open");
        }
    }
    let (mut quote, mut base) = (0i128, 0i64);
    for (_, o) in ex.orders.iter() {
        if let Target::Add(pos) | Target::Reduce(pos) = o.target
            && o.status == OrderStatus::Open
            && ex.positions.get(pos).is_none()
        {
            return Err("an open order refers to a position that is not kept");
        }
        quote += o.reserved_quote;
        base += o.reserved_base;
    }
    if quote != ex.account.reserved_quote || base != ex.account.reserved_base {
        return Err("the balances held do not match the open orders");
    }
    if [ex.net_spot, ex.net_long, ex.net_short].into_iter().flatten().any(|pos| ex.positions.get(pos).is_none()) {
        return Err("a net position is not kept");
    }
    if !bot.is_consistent(ex) {
        return Err("the bot refers to a position that is not kept");
    }
    Ok(())
}
