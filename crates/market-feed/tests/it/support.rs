//! A feed on the test's own NATS prefix and a free port, replaying candle files the test
//! writes, with a subscriber that records every quote in arrival order.

use bus::messages::market::{MarketSymbol, QuoteMsg};
use futures::StreamExt;
use market_feed::{Feed, FeedSettings, ReplayedMarket};
use platform::settings::HttpSettings;
use rust_decimal::Decimal;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use test_support::TestNats;
use tokio_util::sync::CancellationToken;

pub const TIMEOUT: Duration = Duration::from_secs(10);
/// Fast enough for short tests, slow enough for a busy 2-core machine: 800 quotes/s per symbol.
pub const SPEED: f64 = 200.0;
pub const HEADER: &str = "timestamp_ms,open,high,low,close,volume";

/// A symbol of the test's own (`SIM_T<random>_USDT_`).
pub fn own_symbol() -> MarketSymbol {
    let random = uuid::Uuid::new_v4().simple().to_string();
    MarketSymbol::new(format!("SIM_T{}_USDT_", &random[..8].to_uppercase())).unwrap()
}

pub fn marketdata() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy/local/marketdata")
}

/// A folder of candle files, removed on drop.
pub struct DataDir(PathBuf);

impl DataDir {
    /// Writes one file per `(name, candles)`; candles are `[open, high, low, close]` as text.
    pub fn new(files: &[(&str, &[[&str; 4]])]) -> Self {
        let dir = std::env::temp_dir().join(format!("market-feed-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        for (name, candles) in files {
            let mut text = format!("{HEADER}\n");
            for (index, [open, high, low, close]) in candles.iter().enumerate() {
                text.push_str(&format!(
                    "{},{open},{high},{low},{close},1.5\n",
                    1_689_677_460_000_i64 + 60_000 * index as i64
                ));
            }
            std::fs::write(dir.join(name), text).unwrap();
        }
        Self(dir)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for DataDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Settings for a feed on `nats`'s prefix, a free port, replaying `markets` from `data_dir`.
pub fn settings(nats: &TestNats, data_dir: &Path, markets: &[(&MarketSymbol, &str)]) -> FeedSettings {
    let mut settings = FeedSettings {
        http: HttpSettings { port: 0, ..HttpSettings::local(0) },
        nats: nats.settings_as(bus::permissions::MARKET_FEED_USER),
        ..FeedSettings::default()
    };
    settings.feed.data_dir = data_dir.to_path_buf();
    settings.feed.speed = SPEED;
    settings.feed.markets = markets
        .iter()
        .map(|(symbol, file)| ReplayedMarket { symbol: symbol.to_string(), file: file.to_string() })
        .collect();
    settings
}

/// Every quote received on a subscription, in arrival order, raw and decoded.
#[derive(Clone, Default)]
pub struct Received(Arc<Mutex<Vec<(Value, QuoteMsg)>>>);

impl Received {
    /// Subscribes on `subject` (and waits until the server has the subscription).
    pub async fn subscribe(client: &async_nats::Client, subject: &str) -> Self {
        let mut subscription = client.subscribe(subject.to_string()).await.unwrap();
        client.flush().await.unwrap();
        let received = Self::default();
        let sink = received.clone();
        tokio::spawn(async move {
            while let Some(message) = subscription.next().await {
                let raw: Value = serde_json::from_slice(&message.payload).unwrap();
                let quote: QuoteMsg = serde_json::from_value(raw.clone()).unwrap();
                assert_eq!(message.subject.as_str().rsplit('.').next(), Some(quote.symbol.as_str()));
                sink.0.lock().unwrap().push((raw, quote));
            }
        });
        received
    }

    /// The quotes of `symbol` so far.
    pub fn of(&self, symbol: &MarketSymbol) -> Vec<QuoteMsg> {
        self.0.lock().unwrap().iter().filter(|(_, quote)| &quote.symbol == symbol).map(|(_, q)| q.clone()).collect()
    }

    /// Every message so far, raw.
    pub fn raw(&self) -> Vec<Value> {
        self.0.lock().unwrap().iter().map(|(raw, _)| raw.clone()).collect()
    }

    /// Waits until `symbol` has at least `count` quotes, and returns them.
    pub async fn wait_for(&self, symbol: &MarketSymbol, count: usize) -> Vec<QuoteMsg> {
        test_support::eventually(&format!("{count} quotes of {symbol}"), TIMEOUT, || {
            let quotes = self.of(symbol);
            async move { (quotes.len() >= count).then_some(quotes) }
        })
        .await
    }
}

/// The prices a ping-pong walk of `candles` goes through, open → high → low → close each,
/// the file forward, then reversed with open and close swapped, and so on.
pub fn walk(candles: &[[&str; 4]], count: usize) -> Vec<Decimal> {
    let forward = candles.iter().map(|[open, high, low, close]| [*open, *high, *low, *close]);
    let reversed = candles.iter().rev().map(|[open, high, low, close]| [*close, *high, *low, *open]);
    let lap: Vec<[&str; 4]> = forward.chain(reversed).collect();
    lap.iter().cycle().flatten().take(count).map(|price| price.parse().unwrap()).collect()
}

/// A started feed with its control client and shutdown token.
pub struct Running {
    pub feed: Feed,
    pub http: reqwest::Client,
    pub base: String,
}

impl Running {
    pub async fn start(settings: FeedSettings) -> Self {
        test_support::init_logging();
        let feed = Feed::start(settings, CancellationToken::new()).await.unwrap();
        let base = feed.base_url();
        Self { feed, http: test_support::http_client(), base }
    }

    pub async fn get(&self, path: &str) -> (u16, Value) {
        let response = self.http.get(format!("{}{path}", self.base)).send().await.unwrap();
        (response.status().as_u16(), response.json().await.unwrap())
    }

    pub async fn put(&self, path: &str, body: &str) -> (u16, Value) {
        let response = self.http.put(format!("{}{path}", self.base)).body(body.to_string()).send().await.unwrap();
        (response.status().as_u16(), response.json().await.unwrap())
    }

    pub async fn post(&self, path: &str, body: &str) -> (u16, Value) {
        let response = self.http.post(format!("{}{path}", self.base)).body(body.to_string()).send().await.unwrap();
        (response.status().as_u16(), response.json().await.unwrap())
    }

    /// `PUT /_feed/symbols/{symbol}` with `{"mode": mode}`.
    pub async fn set_mode(&self, symbol: &MarketSymbol, mode: &str) -> Value {
        let (status, body) = self.put(&format!("/_feed/symbols/{symbol}"), &format!(r#"{{"mode":"{mode}"}}"#)).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["mode"], mode, "{body}");
        body
    }

    /// The entry of `symbol` in `GET /_feed/symbols`.
    pub async fn entry(&self, symbol: &MarketSymbol) -> Value {
        let (status, body) = self.get("/_feed/symbols").await;
        assert_eq!(status, 200);
        body["symbols"].as_array().unwrap().iter().find(|entry| entry["symbol"] == symbol.as_str()).unwrap().clone()
    }
}
