//! A random subject prefix per test, so tests share one NATS server without seeing each other.

use futures::StreamExt;
use platform::settings::NatsSettings;

fn nats_url() -> String {
    std::env::var("TEST_NATS_URL").unwrap_or_else(|_| "nats://127.0.0.1:4222".to_string())
}

/// A test's private corner of the NATS server; its streams are deleted on drop.
pub struct TestNats {
    prefix: String,
}

impl TestNats {
    /// A fresh random prefix (`t` and 12 hex digits).
    pub fn new() -> Self {
        Self { prefix: format!("t{}", &uuid::Uuid::new_v4().simple().to_string()[..12]) }
    }

    /// The prefix.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// NATS settings using the prefix, with short timeouts fit for tests.
    pub fn settings(&self) -> NatsSettings {
        NatsSettings {
            url: nats_url(),
            prefix: self.prefix.clone(),
            request_timeout_ms: 2_000,
            connect_timeout_ms: 2_000,
        }
    }

    /// The subject builder for the prefix.
    pub fn subjects(&self) -> bus::Subjects {
        bus::Subjects::new(self.prefix.clone()).expect("a valid prefix")
    }

    /// A plain client connection.
    pub async fn client(&self) -> async_nats::Client {
        async_nats::connect(nats_url()).await.expect("connection to NATS")
    }
}

impl Default for TestNats {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for TestNats {
    fn drop(&mut self) {
        let prefix = format!("{}_", self.prefix);
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().ok()?;
            runtime.block_on(async move {
                let client = async_nats::connect(nats_url()).await.ok()?;
                let js = async_nats::jetstream::new(client);
                let names: Vec<String> = js.stream_names().filter_map(|name| async move { name.ok() }).collect().await;
                for name in names.into_iter().filter(|name| name.starts_with(&prefix)) {
                    let _ = js.delete_stream(&name).await;
                }
                Some(())
            })
        })
        .join();
    }
}
