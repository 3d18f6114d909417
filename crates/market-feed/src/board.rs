//! The board: every symbol's mode and last quote, and the one place quotes are published.
//!
//! The replay tasks and the control endpoint share it. Its lock is never held across an
//! `.await`; a replayed quote is recorded under the lock only while its symbol is in `replay`
//! mode, so once a `hold` is answered no newer replayed quote of that symbol is published.

use bus::Subjects;
use bus::messages::market::{InvalidQuote, MarketSymbol, QuoteMsg};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{SystemTime, UNIX_EPOCH};
use tokio::sync::watch;

/// What a replayed symbol does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Stopped in place: no replayed quote until `replay`.
    Hold,
    /// Publishing its candle file's path, from where it stopped.
    Replay,
}

impl Mode {
    /// The word used on the control endpoint.
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Hold => "hold",
            Mode::Replay => "replay",
        }
    }
}

/// One symbol as `GET /_feed/symbols` lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SymbolView {
    /// The symbol.
    pub symbol: MarketSymbol,
    /// `hold` or `replay` for a replayed symbol; `None` (JSON `null`) for one that is only
    /// pushed.
    pub mode: Option<Mode>,
    /// The last quote published for it, if any.
    pub last: Option<QuoteMsg>,
}

/// A quote pushed through the control endpoint, before it is stamped.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PushedQuote {
    /// The market.
    pub symbol: MarketSymbol,
    /// The time to stamp; the wall clock at publication when `None`.
    pub time_ms: Option<i64>,
    /// Best bid.
    pub bid: Decimal,
    /// Best ask.
    pub ask: Decimal,
    /// Last traded price.
    pub last: Decimal,
}

/// Why a control action failed.
#[derive(Debug, thiserror::Error)]
pub enum BoardError {
    /// The quote breaks a rule (the message names the field).
    #[error(transparent)]
    Invalid(#[from] InvalidQuote),
    /// `hold` / `replay` for a symbol this feed does not replay.
    #[error("symbol {0} is not replayed by this feed (only pushed quotes reach it)")]
    NotReplayed(MarketSymbol),
    /// NATS refused the quote (the client is closed).
    #[error("the quote could not be published: {0}")]
    Publish(String),
}

#[derive(Default)]
struct SymbolState {
    /// Set for a replayed symbol; its replay task watches it.
    mode: Option<watch::Sender<Mode>>,
    last: Option<QuoteMsg>,
}

/// Modes and last quotes, and the NATS client quotes go out on.
pub struct Board {
    nats: async_nats::Client,
    subjects: Subjects,
    symbols: Mutex<BTreeMap<MarketSymbol, SymbolState>>,
}

impl Board {
    /// An empty board publishing under `subjects`' prefix.
    pub fn new(nats: async_nats::Client, subjects: Subjects) -> Self {
        Self { nats, subjects, symbols: Mutex::new(BTreeMap::new()) }
    }

    fn lock(&self) -> MutexGuard<'_, BTreeMap<MarketSymbol, SymbolState>> {
        // Every update is a single assignment: a panic elsewhere cannot leave an entry
        // half-written, so a poisoned lock is reused.
        self.symbols.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Registers a replayed symbol in `replay` mode; its task watches the returned receiver.
    pub fn add_replayed(&self, symbol: MarketSymbol) -> watch::Receiver<Mode> {
        let (sender, receiver) = watch::channel(Mode::Replay);
        self.lock().entry(symbol).or_default().mode = Some(sender);
        receiver
    }

    /// Sets a replayed symbol's mode (the same mode again changes nothing).
    pub fn set_mode(&self, symbol: &MarketSymbol, mode: Mode) -> Result<SymbolView, BoardError> {
        let symbols = self.lock();
        let replayed = symbols.get(symbol).and_then(|state| state.mode.as_ref().map(|sender| (state, sender)));
        let Some((state, sender)) = replayed else {
            return Err(BoardError::NotReplayed(symbol.clone()));
        };
        sender.send_replace(mode);
        Ok(view(symbol, state))
    }

    /// Every symbol that is replayed or has had a quote, by symbol.
    pub fn symbols(&self) -> Vec<SymbolView> {
        self.lock().iter().map(|(symbol, state)| view(symbol, state)).collect()
    }

    /// Records `quote` as its symbol's last and publishes it, unless the symbol is held:
    /// then nothing is published and `false` is returned.
    pub async fn publish_replayed(&self, quote: QuoteMsg) -> Result<bool, BoardError> {
        {
            let mut symbols = self.lock();
            let state = symbols.entry(quote.symbol.clone()).or_default();
            if state.mode.as_ref().is_some_and(|mode| *mode.borrow() == Mode::Hold) {
                return Ok(false);
            }
            state.last = Some(quote.clone());
        }
        self.send(&quote).await?;
        Ok(true)
    }

    /// Stamps a pushed quote (its own time, else the wall clock), checks it, records it as its
    /// symbol's last and publishes it now, whatever the symbol's mode. Returns the quote
    /// as published once NATS has it.
    pub async fn publish_pushed(&self, pushed: PushedQuote) -> Result<QuoteMsg, BoardError> {
        let time_ms = pushed.time_ms.unwrap_or_else(now_ms);
        let quote = QuoteMsg::new(pushed.symbol, time_ms, pushed.bid, pushed.ask, pushed.last)?;
        self.lock().entry(quote.symbol.clone()).or_default().last = Some(quote.clone());
        self.send(&quote).await?;
        // A pushed quote is a test's or a demo's deliberate step: the answer means it left.
        self.nats.flush().await.map_err(|error| BoardError::Publish(error.to_string()))?;
        Ok(quote)
    }

    async fn send(&self, quote: &QuoteMsg) -> Result<(), BoardError> {
        let payload = serde_json::to_vec(quote).map_err(|error| BoardError::Publish(error.to_string()))?;
        let subject = self.subjects.quote(&quote.symbol);
        self.nats
            .publish(subject.subject().to_string(), payload.into())
            .await
            .map_err(|error| BoardError::Publish(error.to_string()))
    }
}

fn view(symbol: &MarketSymbol, state: &SymbolState) -> SymbolView {
    SymbolView {
        symbol: symbol.clone(),
        mode: state.mode.as_ref().map(|mode| *mode.borrow()),
        last: state.last.clone(),
    }
}

/// The wall clock, Unix milliseconds.
pub fn now_ms() -> i64 {
    let since_epoch = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
    i64::try_from(since_epoch.as_millis()).unwrap_or(i64::MAX)
}
