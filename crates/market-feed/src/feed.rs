//! The running feed: one replay task per symbol, the control endpoint, one NATS connection.
//!
//! ```text
//! Feed::start ─► read every candle file ─► NATS connect (user market-feed) ─► bind the control port
//!                                                 │
//!   replay task per symbol ──publish_replayed──► Board ──► <prefix>.md.feed.quote.v1.<symbol>
//!   control endpoint ──set_mode / publish_pushed──┘
//! shutdown token ─► endpoint stops accepting, open requests finish ─► replay tasks stop ─► NATS flush
//! ```

use crate::board::Board;
use crate::path::PricePath;
use crate::replay::Replay;
use crate::server;
use crate::settings::FeedSettings;
use anyhow::Context;
use bus::messages::market::MarketSymbol;
use bus::permissions::MARKET_FEED_USER;
use std::future::Future;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::{info, warn};

/// A running feed. Stops when its shutdown token is cancelled (or when it is dropped), in
/// order, through [`Feed::run_until_stopped`].
pub struct Feed {
    addr: SocketAddr,
    nats: async_nats::Client,
    shutdown: CancellationToken,
    tasks: TaskTracker,
}

impl Feed {
    /// Reads the candle files, connects to NATS as the `market-feed` user, binds the control
    /// endpoint and starts replaying every configured market. Fails, publishing nothing, when
    /// a file cannot be read, NATS cannot be reached or the port is taken.
    pub async fn start(settings: FeedSettings, shutdown: CancellationToken) -> anyhow::Result<Feed> {
        let subjects = settings.nats.subjects()?;
        let replays = read_markets(&settings)?;
        let instance = platform::backend::instance_name(MARKET_FEED_USER);
        let nats = platform::backend::connect_nats(&settings.nats, MARKET_FEED_USER, &instance).await?;
        let listener =
            TcpListener::bind((settings.http.host.as_str(), settings.http.port)).await.with_context(|| {
                format!("binding the control endpoint to {}:{}", settings.http.host, settings.http.port)
            })?;
        let addr = listener.local_addr().context("reading the control endpoint's address")?;

        // A child token: dropping the feed stops it without cancelling the caller's token.
        let shutdown = shutdown.child_token();
        let feed = Feed { addr, nats: nats.clone(), shutdown, tasks: TaskTracker::new() };
        let board = Arc::new(Board::new(nats, subjects));
        let grace = Duration::from_secs(settings.http.shutdown_timeout_secs);
        let (board_for_server, stop) = (Arc::clone(&board), feed.shutdown.clone());
        feed.spawn("control endpoint", async move {
            server::serve(listener, board_for_server, stop, grace).await;
            Ok(())
        });
        let symbols: Vec<String> = replays.iter().map(|replay| replay.symbol.to_string()).collect();
        for replay in replays {
            let mode = board.add_replayed(replay.symbol.clone());
            let (board, stop) = (Arc::clone(&board), feed.shutdown.clone());
            feed.spawn("replay", replay.run(board, mode, stop));
        }
        info!(
            http.addr = %addr,
            nats.prefix = settings.nats.prefix,
            instance,
            symbols = ?symbols,
            speed = settings.feed.speed,
            "market feed started"
        );
        Ok(feed)
    }

    /// The control endpoint's bound address (the real port when settings asked for 0).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://<addr>`, with loopback for an unspecified bind address.
    pub fn base_url(&self) -> String {
        let mut addr = self.addr;
        if addr.ip().is_unspecified() {
            addr.set_ip(IpAddr::V4(Ipv4Addr::LOCALHOST));
        }
        format!("http://{addr}")
    }

    /// Waits for the shutdown token, then stops in order: the control endpoint stops taking
    /// requests and finishes the open ones, the replay tasks stop, NATS sends what it holds.
    pub async fn run_until_stopped(self) {
        self.shutdown.cancelled().await;
        info!("market feed stopping");
        self.tasks.close();
        self.tasks.wait().await;
        if let Err(error) = self.nats.flush().await {
            warn!(%error, "NATS flush failed during shutdown");
        }
        info!("market feed stopped");
    }

    /// Cancels the feed's shutdown token and waits until it has stopped.
    pub async fn stop(self) {
        self.shutdown.cancel();
        self.run_until_stopped().await;
    }

    /// Runs `task`; if it fails, the whole feed stops (a feed with a dead symbol would limp).
    fn spawn<F>(&self, name: &'static str, task: F)
    where
        F: Future<Output = anyhow::Result<()>> + Send + 'static,
    {
        let shutdown = self.shutdown.clone();
        self.tasks.spawn(async move {
            if let Err(error) = task.await {
                warn!(task = name, error = format!("{error:#}"), "market feed task failed; shutting down");
                shutdown.cancel();
            }
        });
    }
}

impl Drop for Feed {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

/// Every configured market with its parsed candle file.
fn read_markets(settings: &FeedSettings) -> anyhow::Result<Vec<Replay>> {
    let replay = &settings.feed;
    let period = Replay::period(replay.speed);
    replay
        .markets
        .iter()
        .map(|market| {
            let file = replay.data_dir.join(&market.file);
            let text = std::fs::read_to_string(&file).with_context(|| format!("reading {}", file.display()))?;
            let path = PricePath::parse(&text).with_context(|| format!("reading {}", file.display()))?;
            let symbol = MarketSymbol::new(market.symbol.clone())?;
            info!(
                symbol = %symbol,
                file = %file.display(),
                candles = path.candles(),
                tick = %path.tick(),
                "replaying a candle file"
            );
            Ok(Replay { symbol, path, half_spread_ticks: replay.spread_ticks / 2, period })
        })
        .collect()
}
