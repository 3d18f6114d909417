//! The demo data `just up` writes to `.local/seed.json`: the bot to drive and its owner.

use anyhow::{Context, Result, anyhow};
use domain::{BotId, BrokerAccountId, TickerId, UserId};
use serde::Deserialize;
use std::collections::HashMap;
use std::path::Path;

/// The fields of `.local/seed.json` the benchmark uses.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Seed {
    /// The demo user (owner of the broker account).
    pub user_id: UserId,
    /// The user's broker account.
    pub broker_account_id: BrokerAccountId,
    /// The external bot.
    pub bot_id: BotId,
    /// Its slug, in every Bot API path.
    pub bot_slug: String,
    /// Its API key (`x-api-key`).
    pub bot_api_key: String,
    /// Ticker ids by symbol.
    pub tickers: HashMap<String, TickerId>,
}

impl Seed {
    /// Reads and parses the file.
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading {} (written by `just up`)", path.display()))?;
        serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))
    }

    /// The ticker the states are written for.
    pub fn ticker(&self, symbol: &str) -> Result<TickerId> {
        self.tickers.get(symbol).copied().ok_or_else(|| anyhow!("the seed has no ticker {symbol}"))
    }
}
