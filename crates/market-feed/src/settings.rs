//! The feed's settings: the control endpoint, NATS, logging and the replay.

use bus::messages::market::MarketSymbol;
use platform::settings::{HttpSettings, LogSettings, NatsSettings, Settings, SettingsError};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// The fastest replay: 250 candles/s is 1,000 quotes/s per symbol, one per millisecond, so a
/// symbol's quote times can strictly increase while staying on the wall clock.
pub const MAX_SPEED: f64 = 250.0;

/// Everything the feed reads at start-up.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeedSettings {
    /// The control endpoint (`/_feed/...`), 127.0.0.1:8091 by default. `workers` sets the
    /// runtime's threads (0: one per core).
    pub http: HttpSettings,
    /// NATS; the feed connects as its own user, `market-feed`.
    pub nats: NatsSettings,
    /// Logging.
    pub log: LogSettings,
    /// What is replayed, and how fast.
    pub feed: ReplaySettings,
}

/// The replay of candle files as quotes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReplaySettings {
    /// The folder holding the candle files (relative to the working directory).
    pub data_dir: PathBuf,
    /// Candles per second, per symbol (each candle gives four quotes); `--speed` sets it too.
    pub speed: f64,
    /// The bid-ask spread in ticks, even: `bid` = price − `spread_ticks / 2` ticks, `ask` =
    /// price + `spread_ticks / 2` ticks.
    pub spread_ticks: u32,
    /// Which symbol replays which file.
    pub markets: Vec<ReplayedMarket>,
}

/// One replayed market.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReplayedMarket {
    /// The symbol its quotes carry (one subject token).
    pub symbol: String,
    /// The candle file, relative to `data_dir`.
    pub file: String,
}

impl Default for FeedSettings {
    fn default() -> Self {
        Self {
            http: HttpSettings::local(8091),
            nats: NatsSettings::default(),
            log: LogSettings::default(),
            feed: ReplaySettings::default(),
        }
    }
}

impl Default for ReplaySettings {
    fn default() -> Self {
        let market = |symbol: &str, file: &str| ReplayedMarket { symbol: symbol.to_string(), file: file.to_string() };
        Self {
            data_dir: PathBuf::from("deploy/local/marketdata"),
            speed: 1.0,
            spread_ticks: 2,
            markets: vec![market("SIM_BTC_USDT_", "BTC_USDT-1m.csv"), market("SIM_ETH_USDT_", "ETH_USDT-5m.csv")],
        }
    }
}

impl ReplaySettings {
    /// Checks the section's values.
    pub fn validate(&self) -> Result<(), SettingsError> {
        if !(self.speed.is_finite() && self.speed > 0.0 && self.speed <= MAX_SPEED) {
            return Err(SettingsError::invalid(
                "feed.speed",
                format!("must be above 0 and at most {MAX_SPEED} candles per second, not {}", self.speed),
            ));
        }
        if !self.spread_ticks.is_multiple_of(2) {
            return Err(SettingsError::invalid(
                "feed.spread_ticks",
                format!("must be even (half below the price, half above), not {}", self.spread_ticks),
            ));
        }
        for (index, market) in self.markets.iter().enumerate() {
            MarketSymbol::new(market.symbol.clone())
                .map_err(|error| SettingsError::invalid(&format!("feed.markets.{index}.symbol"), error.to_string()))?;
            if market.file.trim().is_empty() {
                return Err(SettingsError::invalid(&format!("feed.markets.{index}.file"), "must name a file"));
            }
            if self.markets[..index].iter().any(|earlier| earlier.symbol == market.symbol) {
                return Err(SettingsError::invalid(
                    &format!("feed.markets.{index}.symbol"),
                    format!("{} is replayed twice", market.symbol),
                ));
            }
        }
        Ok(())
    }
}

impl Settings for FeedSettings {
    fn log(&self) -> &LogSettings {
        &self.log
    }

    fn validate(&self) -> Result<(), SettingsError> {
        self.http.validate()?;
        self.nats.validate()?;
        self.log.validate()?;
        self.feed.validate()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use platform::settings::{Sources, load};

    fn load_with(env: &[(&str, &str)]) -> Result<FeedSettings, SettingsError> {
        let sources = Sources {
            config_dir: PathBuf::from("/nonexistent"),
            environment: "local".into(),
            env: env.iter().map(|(key, value)| (key.to_string(), value.to_string())).collect(),
        };
        load(&FeedSettings::default(), &sources)
    }

    #[test]
    fn defaults_replay_the_two_sim_markets_on_port_8091() {
        let settings = load_with(&[]).unwrap();
        assert_eq!(settings, FeedSettings::default());
        assert_eq!((settings.http.host.as_str(), settings.http.port), ("127.0.0.1", 8091));
        let markets: Vec<_> = settings.feed.markets.iter().map(|m| (m.symbol.as_str(), m.file.as_str())).collect();
        assert_eq!(markets, [("SIM_BTC_USDT_", "BTC_USDT-1m.csv"), ("SIM_ETH_USDT_", "ETH_USDT-5m.csv")]);
        assert_eq!((settings.feed.speed, settings.feed.spread_ticks), (1.0, 2));
    }

    #[test]
    fn the_environment_overrides_and_bad_values_name_their_key() {
        let settings = load_with(&[("APP_FEED__SPEED", "20"), ("APP_HTTP__PORT", "9091")]).unwrap();
        assert_eq!((settings.feed.speed, settings.http.port), (20.0, 9091));
        for (env, key) in [
            (("APP_FEED__SPEED", "0"), "feed.speed"),
            (("APP_FEED__SPEED", "1000"), "feed.speed"),
            (("APP_FEED__SPREAD_TICKS", "3"), "feed.spread_ticks"),
            (("APP_FEED__SPED", "3"), "sped"),
        ] {
            let error = load_with(&[env]).unwrap_err().to_string();
            assert!(error.contains(key), "{env:?}: {error}");
        }
    }

    #[test]
    fn a_symbol_that_is_not_a_subject_token_is_refused() {
        let mut settings = FeedSettings::default();
        settings.feed.markets[1].symbol = "BRK.B".into();
        let error = settings.validate().unwrap_err().to_string();
        assert!(error.contains("feed.markets.1.symbol") && error.contains("BRK.B"), "{error}");
        settings.feed.markets[1].symbol = "SIM_BTC_USDT_".into();
        assert!(settings.validate().unwrap_err().to_string().contains("twice"));
    }
}
