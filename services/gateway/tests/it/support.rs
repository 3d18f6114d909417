//! A gateway on port 0 with a random prefix and no backend services behind it.

use gateway::{App, Settings};
use platform::settings::HttpSettings;
use std::net::SocketAddr;
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
