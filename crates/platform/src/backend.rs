//! The shared host of the four backend services.
//!
//! ```text
//! Backend::start ─► pool (lazy) ─► NATS connect ─► JetStream on? ─► streams + consumers
//!                                      │
//!                                      ├─► ping responder (answers only while the db does)
//!                                      └─► /health + /ready server
//! run_until_stopped(shutdown) ─► shutdown fires (or a loop failed) ─► responders drain
//!                                 ─► in-flight work ends ─► health server stops ─► flush
//! ```
//! Building starts the work; the caller's shutdown token is only needed to run it
//! ([`Backend::run_until_stopped`]). A backend dropped without running stops its loops too.
//! A service builds its own parts on top (more responders, consumers, relays) with
//! [`Backend::spawn`], so they stop in the same orderly way and a panic in one of them restarts
//! it (see [`crate::supervisor`]).

use crate::db::{self, PgPool};
use crate::health::{HealthServer, ReadinessProbe};
use crate::settings::{BackendSettings, NatsSettings};
use crate::supervisor::Supervision;
use anyhow::Context;
use bus::messages::PingReply;
use bus::{BusError, Subjects};
use domain::ServiceName;
use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;
use tokio_util::sync::{CancellationToken, DropGuard};
use tokio_util::task::TaskTracker;
use tracing::{info, warn};

/// How long the ping handler waits for the database.
const PING_DATABASE_TIMEOUT: Duration = Duration::from_secs(1);

/// Connects to NATS as `client` (the bus user's name: `gateway`, `trade-ledger`, ...) with the
/// settings' credentials, TLS and timeouts; fails when the server is unreachable or refuses.
///
/// Replies come to `_INBOX.<client>.…`, the only inboxes the server lets that user read, so no
/// other service can subscribe to this one's replies.
pub async fn connect_nats(settings: &NatsSettings, client: &str, instance: &str) -> anyhow::Result<async_nats::Client> {
    let redacted = crate::settings::redacted_url(&settings.url);
    let (address, in_url) = split_credentials(&settings.url).with_context(|| format!("reading nats.url {redacted}"))?;
    let mut options = async_nats::ConnectOptions::new()
        .name(instance)
        .custom_inbox_prefix(bus::inbox_prefix(client))
        .connection_timeout(Duration::from_millis(settings.connect_timeout_ms))
        .request_timeout(Some(Duration::from_millis(settings.request_timeout_ms)));
    match in_url {
        UrlCredentials::UserPassword(user, password) => options = options.user_and_password(user, password),
        UrlCredentials::Token(token) => options = options.token(token),
        UrlCredentials::None => {}
    }
    if let (Some(user), Some(password)) = (&settings.user, &settings.password) {
        options = options.user_and_password(user.clone(), password.expose().to_string());
    }
    if let Some(seed) = &settings.nkey_seed {
        options = options.nkey(seed.expose().to_string());
    }
    if settings.tls.enabled() {
        options = options.require_tls(true);
    }
    if let Some(ca) = &settings.tls.ca_file {
        options = options.add_root_certificates(ca.clone());
    }
    if let (Some(cert), Some(key)) = (&settings.tls.cert_file, &settings.tls.key_file) {
        options = options.add_client_certificate(cert.clone(), key.clone());
    }
    options.connect(address.as_str()).await.with_context(|| format!("connecting to NATS at {redacted}"))
}

/// Credentials written into a NATS URL.
#[derive(Debug, PartialEq, Eq)]
enum UrlCredentials {
    None,
    UserPassword(String, String),
    Token(String),
}

/// Takes the credentials out of a NATS URL (`nats://user:pass@host:4222`, `nats://token@host`)
/// and passes them as options instead, because the client library prints the server address
/// in its debug logs.
fn split_credentials(address: &str) -> anyhow::Result<(String, UrlCredentials)> {
    let mut parsed = url::Url::parse(address)?;
    let credentials = match (parsed.username(), parsed.password()) {
        ("", None) => UrlCredentials::None,
        (token, None) => UrlCredentials::Token(token.to_string()),
        (user, Some(password)) => UrlCredentials::UserPassword(user.to_string(), password.to_string()),
    };
    // Cannot fail for nats:// and tls:// URLs, which have a host.
    let _ = parsed.set_username("");
    let _ = parsed.set_password(None);
    Ok((parsed.to_string(), credentials))
}

/// A name for this process, unique among replicas: `<service>-<host>-<random>`.
pub fn instance_name(service: &str) -> String {
    let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "local".to_string());
    let suffix = uuid::Uuid::new_v4().simple().to_string();
    format!("{service}-{host}-{}", &suffix[..8])
}

/// A started backend service: its pool, NATS client, subjects and background tasks.
pub struct Backend {
    /// Which service this is.
    pub service: ServiceName,
    /// This replica's name (in ping replies and NATS connection names).
    pub instance: String,
    /// The loaded settings.
    pub settings: BackendSettings,
    /// The service's database.
    pub pool: PgPool,
    /// NATS.
    pub nats: async_nats::Client,
    /// JetStream on the same connection.
    pub jetstream: async_nats::jetstream::Context,
    /// Subject builder for the configured prefix.
    pub subjects: Subjects,
    /// The backend's own token: cancelled by the caller's shutdown, by a loop that fails, or
    /// when the backend is dropped.
    shutdown: CancellationToken,
    _stop_on_drop: DropGuard,
    tasks: TaskTracker,
    supervision: Supervision,
    health: HealthServer,
}

impl Backend {
    /// Starts the shared parts of `service`; [`Backend::run_until_stopped`] stops them.
    pub async fn start(service: ServiceName, settings: BackendSettings) -> anyhow::Result<Self> {
        let shutdown = CancellationToken::new();
        let subjects = settings.nats.subjects()?;
        let instance = instance_name(service.as_str());
        let pool = db::pool(&settings.database).context("building the database pool")?;
        let nats = connect_nats(&settings.nats, service.as_str(), &instance).await?;
        bus::jetstream::check_enabled(&nats).await?;
        let jetstream = async_nats::jetstream::new(nats.clone());
        let topology = bus::jetstream::topology(&subjects, service).with_limits(&settings.nats.jetstream.limits());
        bus::jetstream::ensure(&jetstream, &topology).await?;
        let supervision = Supervision::default();
        let probe = ReadinessProbe::new(Some(pool.clone()), nats.clone());
        let health = HealthServer::start(&settings.http, probe, supervision.clone())
            .with_context(|| format!("binding {}:{}", settings.http.host, settings.http.port))?;
        let backend = Self {
            service,
            instance,
            settings,
            pool,
            nats,
            jetstream,
            subjects,
            _stop_on_drop: shutdown.clone().drop_guard(),
            shutdown,
            tasks: TaskTracker::new(),
            supervision,
            health,
        };
        backend.serve_ping();
        info!(
            service = %service,
            instance = %backend.instance,
            http.addr = %backend.health.addr(),
            nats.prefix = backend.subjects.prefix(),
            "service started"
        );
        Ok(backend)
    }

    /// Runs the loop `make()` builds until it ends; shutdown waits for it. Loops watch
    /// [`Backend::shutdown`]. A panic is logged and the loop is built and run again after a
    /// short backoff; `/health` fails while a loop restarts too often. An error stops the
    /// whole process (see [`crate::supervisor`]).
    pub fn spawn<F, Fut>(&self, name: &'static str, make: F)
    where
        F: FnMut() -> Fut + Send + 'static,
        Fut: Future<Output = anyhow::Result<()>> + Send + 'static,
    {
        self.supervision.spawn(&self.tasks, self.shutdown.clone(), name, make);
    }

    /// Answers `endpoint` (in its queue group) with `handler(pool, request)` until shutdown,
    /// then drains: the requests in hand are answered first.
    pub fn respond<Req, Resp, H, Fut>(&self, name: &'static str, endpoint: bus::Endpoint<Req, Resp>, handler: H)
    where
        Req: serde::de::DeserializeOwned + Send + 'static,
        Resp: serde::Serialize + Send + 'static,
        H: Fn(PgPool, Req) -> Fut + Clone + Send + Sync + 'static,
        Fut: Future<Output = Result<Resp, BusError>> + Send + 'static,
    {
        let (nats, shutdown, pool) = (self.nats.clone(), self.shutdown.clone(), self.pool.clone());
        self.spawn(name, move || {
            let (nats, endpoint, shutdown, pool, handler) =
                (nats.clone(), endpoint.clone(), shutdown.clone(), pool.clone(), handler.clone());
            async move {
                bus::serve(nats, endpoint, shutdown, move |request| handler(pool.clone(), request)).await?;
                Ok(())
            }
        });
    }

    /// The token every part of the service stops on (the backend's own, see
    /// [`Backend::run_until_stopped`]).
    pub fn shutdown(&self) -> CancellationToken {
        self.shutdown.clone()
    }

    /// The address of `/health` and `/ready`.
    pub fn health_addr(&self) -> SocketAddr {
        self.health.addr()
    }

    fn serve_ping(&self) {
        let pool = self.pool.clone();
        let reply = PingReply {
            service: self.service,
            instance: self.instance.clone(),
            version: env!("CARGO_PKG_VERSION").to_string(),
        };
        let endpoint = self.subjects.ping(self.service);
        let nats = self.nats.clone();
        let shutdown = self.shutdown.clone();
        self.spawn("ping responder", move || {
            let (nats, endpoint, shutdown, pool, reply) =
                (nats.clone(), endpoint.clone(), shutdown.clone(), pool.clone(), reply.clone());
            async move {
                bus::serve(nats, endpoint, shutdown, move |_request| {
                    let pool = pool.clone();
                    let reply = reply.clone();
                    async move {
                        db::ping(&pool, PING_DATABASE_TIMEOUT)
                            .await
                            .map(|()| reply)
                            .map_err(|error| BusError::unavailable(error.to_string()))
                    }
                })
                .await
                .context("serving ping")
            }
        });
    }

    /// Waits for `shutdown` (or a loop that failed, which stops the whole process), then stops
    /// in order: responders and loops finish their work, the health server stops, and NATS
    /// flushes what is still buffered.
    pub async fn run_until_stopped(self, shutdown: CancellationToken) {
        tokio::select! {
            () = shutdown.cancelled() => {}
            () = self.shutdown.cancelled() => {}
        }
        self.shutdown.cancel();
        info!(service = %self.service, "draining");
        self.tasks.close();
        self.tasks.wait().await;
        self.health.stop().await;
        if let Err(error) = self.nats.flush().await {
            warn!(error = %error, "NATS flush failed during shutdown");
        }
        info!(service = %self.service, "stopped");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_in_the_url_become_options() {
        let (address, credentials) = split_credentials("nats://gateway:s3cret@nats.nats.svc:4222").unwrap();
        assert_eq!(address, "nats://nats.nats.svc:4222");
        assert_eq!(credentials, UrlCredentials::UserPassword("gateway".into(), "s3cret".into()));
        let (address, credentials) = split_credentials("tls://t0ken@127.0.0.1:4222").unwrap();
        assert_eq!(address, "tls://127.0.0.1:4222");
        assert_eq!(credentials, UrlCredentials::Token("t0ken".into()));
        let (address, credentials) = split_credentials("nats://127.0.0.1:4222").unwrap();
        assert_eq!((address.as_str(), credentials), ("nats://127.0.0.1:4222", UrlCredentials::None));
    }
}
