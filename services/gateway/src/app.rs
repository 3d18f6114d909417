//! The running gateway: NATS, the HTTP server, and orderly shutdown.

use crate::api;
use crate::api::body_limit::{self, BodyLimit};
use crate::api::rate_limit::{self, RateLimiters};
use crate::settings::Settings;
use crate::state::AppState;
use actix_web::dev::ServerHandle;
use actix_web::http::StatusCode;
use actix_web::middleware::{ErrorHandlers, from_fn};
use actix_web::{App as ActixApp, HttpServer, web};
use anyhow::Context;
use std::net::SocketAddr;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

/// The gateway, bound and serving.
pub struct App {
    addr: SocketAddr,
    handle: ServerHandle,
    server: tokio::task::JoinHandle<std::io::Result<()>>,
    nats: async_nats::Client,
}

impl App {
    /// Connects to NATS, binds the listener and starts serving.
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        let subjects = settings.nats.subjects()?;
        let nats = platform::backend::connect_nats(
            &settings.nats,
            bus::GATEWAY_USER,
            &platform::backend::instance_name("gateway"),
        )
        .await?;
        let state = web::Data::new(AppState {
            nats: nats.clone(),
            subjects,
            limits: settings.gateway.clone(),
            auth_cache: Default::default(),
            hosted_bot_cache: Default::default(),
            openapi_json: crate::openapi::document_json()?.into(),
        });
        let limit = settings.gateway.body_limit_bytes;
        // One set of buckets for every worker: a client's limit does not multiply by workers.
        let rate_limiters = web::Data::new(RateLimiters::new(&settings.gateway.rate_limits));
        let mut server = HttpServer::new(move || {
            let (json_config, payload_config) = body_limit::extractor_configs(limit);
            ActixApp::new()
                .app_data(state.clone())
                .app_data(BodyLimit(limit))
                .app_data(json_config)
                .app_data(payload_config)
                .wrap(from_fn(body_limit::reject_oversized))
                .wrap(ErrorHandlers::new().handler(StatusCode::PAYLOAD_TOO_LARGE, body_limit::family_shaped_413))
                // Outermost: a client over its limit is refused before anything else runs.
                .app_data(rate_limiters.clone())
                .wrap(from_fn(rate_limit::enforce))
                .configure(|config| {
                    api::register(config);
                })
        })
        .disable_signals()
        .shutdown_timeout(settings.http.shutdown_timeout_secs);
        if settings.http.workers > 0 {
            server = server.workers(settings.http.workers);
        }
        let server = server
            .bind((settings.http.host.as_str(), settings.http.port))
            .with_context(|| format!("binding {}:{}", settings.http.host, settings.http.port))?;
        let addr = *server.addrs().first().context("the listener bound no address")?;
        let server = server.run();
        let handle = server.handle();
        info!(http.addr = %addr, nats.prefix = settings.nats.prefix, "gateway started");
        Ok(Self { addr, handle, server: tokio::spawn(server), nats })
    }

    /// Where the gateway listens (the real port when settings asked for 0).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Serves until `shutdown` fires, then lets in-flight requests finish.
    pub async fn run_until_stopped(self, shutdown: CancellationToken) {
        shutdown.cancelled().await;
        info!("gateway draining");
        self.handle.stop(true).await;
        match self.server.await {
            Ok(Ok(())) => {}
            Ok(Err(error)) => warn!(error = %error, "HTTP server ended with an error"),
            Err(error) => warn!(error = %error, "HTTP server task failed"),
        }
        if let Err(error) = self.nats.flush().await {
            warn!(error = %error, "NATS flush failed during shutdown");
        }
        info!("gateway stopped");
    }
}
