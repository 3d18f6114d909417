//! What a live run reports: every order placed, cancelled or filled, every position opened,
//! changed or closed, log lines, decisions, deactivation and signal outcomes, in the order
//! they happened, each with a per-engine sequence number. [`crate::Engine::drain`] hands
//! them over; a backtest records none (it keeps only its capped log for the report).
//!
//! Events carry the same order and position objects as the report, as they were right after
//! the event, so a consumer never has to ask the engine for a record that a later
//! `compact()` may have dropped. (They are boxed: an event list stays small per item.)

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::log::{LogBook, LogLevel, LogLine, secs};
use crate::order::Order;
use crate::position::Position;
use crate::vocabulary::{OrderRole, OrderType, Side};

/// One event of a run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EngineEvent {
    /// Sequence number, from 1, gap-free and monotonic per engine (kept across checkpoints).
    pub seq: u64,
    /// The engine's clock when it happened: the time of the input being processed, ms.
    pub time_ms: i64,
    /// What happened.
    pub kind: EventKind,
}

/// What happened.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase", rename_all_fields = "camelCase")]
pub enum EventKind {
    /// An order was placed (a market order is placed, then filled at once).
    OrderPlaced {
        /// The order as placed.
        order: Box<Order>,
    },
    /// An open order was cancelled.
    OrderCancelled {
        /// The order, cancelled.
        order: Box<Order>,
        /// Why, e.g. `take profit replaced`, `deal closed`, `stopped`.
        reason: String,
    },
    /// An order was cancelled and replaced by another (automatic re-pricing; not emitted
    /// before the risk policy and re-pricing exist).
    OrderReplaced {
        /// The replaced order.
        old: Box<Order>,
        /// Its replacement.
        new: Box<Order>,
    },
    /// An order filled, wholly or the part of it that went to one position (a webhook sell
    /// that flips a position gives two: the exit of the old one, the entry of the new one).
    OrderFilled {
        /// The order after the fill.
        order: Box<Order>,
        /// This fill.
        fill: Box<Fill>,
        /// The position after the fill.
        position: Box<Position>,
    },
    /// A position was opened by its first entry.
    PositionOpened {
        /// The position.
        position: Box<Position>,
    },
    /// A position grew or was partly exited.
    PositionChanged {
        /// The position.
        position: Box<Position>,
    },
    /// A position was entirely exited.
    PositionClosed {
        /// The position.
        position: Box<Position>,
        /// Its profit before fees, quote.
        gross: Decimal,
        /// Every fee of its fills, quote.
        fees: Decimal,
    },
    /// A log line.
    Log {
        /// Unix seconds (`floor(timeMs / 1000)`).
        time: i64,
        /// Severity.
        level: LogLevel,
        /// The message.
        message: String,
    },
    /// A decision of the bot, for the decision log (why it did or did not act).
    Decision(Decision),
    /// The bot deactivated itself (stop condition, maxWin / maxLoss): it places nothing more
    /// until `resume()` re-arms it.
    BotDeactivated {
        /// Why.
        reason: String,
    },
    /// The risk policy halted the session (daily loss cap). Reserved for the risk policy.
    Halted {
        /// Why.
        reason: String,
    },
    /// The risk policy paused the session (error budget). Reserved for the risk policy.
    Paused {
        /// Why.
        reason: String,
    },
    /// What became of a signal given to `on_signal`.
    SignalOutcome {
        /// The id the signal was given with.
        signal_id: u64,
        /// Its outcome.
        outcome: SignalOutcome,
    },
}

/// One fill of an order into one position.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Fill {
    /// The order.
    pub order_id: u32,
    /// The position it went to.
    pub position_id: u32,
    /// Whether it entered (true) or exited (false) the position.
    pub entry: bool,
    /// Buy or sell.
    pub side: Side,
    /// Market or limit.
    pub order_type: OrderType,
    /// What the order was for.
    pub role: OrderRole,
    /// The order's note, e.g. `Grid sell #3`.
    pub note: String,
    /// Amount of this fill (base).
    pub amount: Decimal,
    /// Fill price.
    pub price: Decimal,
    /// Fee of this fill.
    pub fee: Decimal,
    /// Currency of the fee (the quote).
    pub fee_currency: String,
    /// Unix seconds.
    pub time: i64,
}

/// A decision for the decision log: `kind` / `reason` name it (`start` / `condition_met`,
/// `order_refused` / `insufficient_funds`, …), `data` carries its numbers as text.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decision {
    /// What was decided about.
    pub kind: String,
    /// Why.
    pub reason: String,
    /// Details, e.g. `{"price": "29000.01"}`.
    pub data: BTreeMap<String, String>,
}

/// What became of a live signal.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "camelCase", rename_all_fields = "camelCase")]
pub enum SignalOutcome {
    /// An order was placed (a market order has already filled).
    OrderPlaced {
        /// The order.
        order_id: u32,
    },
    /// Nothing was placed, e.g. `Insufficient funds …`, `bot is stopped`.
    Refused {
        /// Why, in the log's words.
        reason: String,
    },
    /// An exit signal found no open position (or none not already being closed).
    NothingToClose,
}

/// Where events and log lines go.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct Journal {
    /// Whether events are recorded (live runs).
    live: bool,
    seq: u64,
    /// The last sequence number handed out by [`Journal::drain`].
    drained: u64,
    events: Vec<EngineEvent>,
    /// Backtests: the capped log kept for the report.
    log: LogBook,
    /// Live: log lines among `events`, which the cap counts.
    undrained_lines: usize,
    /// Live: lines dropped since the last drain because `cap` lines were waiting.
    omitted: u64,
}

impl Journal {
    pub fn new(live: bool, cap: usize) -> Self {
        Self { live, seq: 0, drained: 0, events: Vec::new(), log: LogBook::new(cap), undrained_lines: 0, omitted: 0 }
    }

    /// Whether events are recorded.
    #[inline]
    pub fn live(&self) -> bool {
        self.live
    }

    /// Records an event (live runs only: callers check [`Journal::live`] before building
    /// one); returns its sequence number.
    pub fn push(&mut self, time_ms: i64, kind: EventKind) -> u64 {
        self.seq += 1;
        self.events.push(EngineEvent { seq: self.seq, time_ms, kind });
        self.seq
    }

    /// Whether another log line would be kept.
    #[inline]
    pub fn has_room(&self) -> bool {
        if self.live { self.undrained_lines < self.log.cap() } else { self.log.has_room() }
    }

    /// Adds a log line; `message` runs only if the line is kept.
    pub fn log(&mut self, time_ms: i64, level: LogLevel, message: impl FnOnce() -> String) {
        if !self.live {
            self.log.push(time_ms, level, message);
        } else if self.undrained_lines < self.log.cap() {
            self.undrained_lines += 1;
            self.push(time_ms, EventKind::Log { time: secs(time_ms), level, message: message() });
        } else {
            self.omitted += 1;
        }
    }

    /// The last sequence number drained.
    pub fn drained(&self) -> u64 {
        self.drained
    }

    /// Events not yet drained.
    pub fn pending(&self) -> usize {
        self.events.len()
    }

    /// Hands over the events since the last call; lines dropped for the cap meanwhile are
    /// counted in one last line.
    pub fn drain(&mut self, time_ms: i64) -> Vec<EngineEvent> {
        if self.omitted > 0 {
            let message = omitted_line(self.omitted, self.log.cap());
            self.push(time_ms, EventKind::Log { time: secs(time_ms), level: LogLevel::Warning, message });
            self.omitted = 0;
        }
        self.undrained_lines = 0;
        self.drained = self.seq;
        std::mem::take(&mut self.events)
    }

    /// The log for the report: a backtest's capped log; for a live run, the lines not yet
    /// drained.
    pub fn finish(self, time_ms: i64) -> Vec<LogLine> {
        if !self.live {
            return self.log.finish(time_ms);
        }
        let mut lines: Vec<LogLine> = self
            .events
            .into_iter()
            .filter_map(|e| match e.kind {
                EventKind::Log { time, level, message } => Some(LogLine { time, level, message }),
                _ => None,
            })
            .collect();
        if self.omitted > 0 {
            let message = omitted_line(self.omitted, self.log.cap());
            lines.push(LogLine { time: secs(time_ms), level: LogLevel::Warning, message });
        }
        lines
    }

    /// Whether the counters agree with the events held (restored checkpoints are checked).
    pub fn is_consistent(&self) -> bool {
        let lines = self.events.iter().filter(|e| matches!(e.kind, EventKind::Log { .. })).count();
        let seqs_ok = self.events.iter().zip(self.events.iter().skip(1)).all(|(a, b)| b.seq == a.seq + 1)
            && self.events.last().is_none_or(|e| e.seq == self.seq)
            && self.events.first().is_none_or(|e| e.seq == self.drained + 1);
        self.drained <= self.seq && (!self.live || lines == self.undrained_lines) && seqs_ok
    }
}

fn omitted_line(n: u64, cap: usize) -> String {
    format!("{n} more lines omitted (log capped at {cap} lines)")
}
