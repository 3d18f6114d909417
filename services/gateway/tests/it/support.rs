//! A gateway on port 0 with a random prefix and no backend services behind it, and the holder
//! of the in-test responders a test puts behind it.

use gateway::{App, Settings};
use platform::settings::HttpSettings;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use test_support::TestNats;
use tokio_util::sync::CancellationToken;

pub struct Gateway {
    pub addr: SocketAddr,
    pub nats: TestNats,
    shutdown: CancellationToken,
}

impl Gateway {
    pub async fn start() -> Self {
        test_support::init_logging();
        let nats = TestNats::new();
        let shutdown = CancellationToken::new();
        let settings = Settings {
            http: HttpSettings { port: 0, workers: 1, ..HttpSettings::local(0) },
            nats: nats.settings(),
            ..Default::default()
        };
        let app = App::build(settings).await.expect("the gateway starts");
        let addr = app.addr();
        tokio::spawn(app.run_until_stopped(shutdown.clone()));
        Self { addr, nats, shutdown }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }
}

impl Drop for Gateway {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

/// In-test responders that answer until dropped, and what they were asked: each handler records
/// into `seen` through a clone of it, and the test reads it back.
pub struct Fakes<Seen> {
    pub seen: Arc<Mutex<Seen>>,
    /// Stops the responders; cancelled on drop, so they never outlive their test.
    pub shutdown: CancellationToken,
}

impl<Seen: Default> Default for Fakes<Seen> {
    fn default() -> Self {
        Self { seen: Arc::default(), shutdown: CancellationToken::new() }
    }
}

impl<Seen> Drop for Fakes<Seen> {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}
