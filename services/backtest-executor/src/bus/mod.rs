//! The subjects the executor answers: thin handlers that decode, call a usecase and reply.

use crate::usecase;
use platform::Backend;
use platform::db::PgPool;

/// Starts a responder per endpoint; each drains on shutdown.
pub fn serve(backend: &Backend) {
    let subjects = backend.subjects.clone();
    let pool = backend.pool.clone();
    let (events, instance) = (subjects.clone(), backend.instance.clone());
    respond(backend, "start backtest", subjects.start_backtest(), &pool, move |pool, request| {
        let (events, instance) = (events.clone(), instance.clone());
        async move { usecase::start::start(&pool, &events, &instance, request).await }
    });
    respond(backend, "backtest status", subjects.backtest_status(), &pool, |pool, request| async move {
        usecase::queries::status(&pool, request).await
    });
    respond(backend, "backtest results", subjects.backtest_results(), &pool, |pool, request| async move {
        usecase::queries::results(&pool, request).await
    });
    respond(backend, "backtest logs", subjects.backtest_logs(), &pool, |pool, request| async move {
        usecase::queries::logs(&pool, request).await
    });
    respond(backend, "backtest positions", subjects.backtest_positions(), &pool, |pool, request| async move {
        usecase::queries::positions(&pool, request).await
    });
    respond(backend, "backtest equity", subjects.backtest_equity(), &pool, |pool, request| async move {
        usecase::queries::equity(&pool, request).await
    });
    respond(backend, "cancel backtest", subjects.cancel_backtest(), &pool, |pool, request| async move {
        usecase::queries::cancel(&pool, request).await
    });
}

fn respond<Req, Resp, H, Fut>(
    backend: &Backend,
    name: &'static str,
    endpoint: bus::Endpoint<Req, Resp>,
    pool: &PgPool,
    handler: H,
) where
    Req: serde::de::DeserializeOwned + Send + 'static,
    Resp: serde::Serialize + Send + 'static,
    H: Fn(PgPool, Req) -> Fut + Clone + Send + Sync + 'static,
    Fut: std::future::Future<Output = Result<Resp, bus::BusError>> + Send + 'static,
{
    let nats = backend.nats.clone();
    let shutdown = backend.shutdown();
    let pool = pool.clone();
    backend.spawn(name, async move {
        bus::serve(nats, endpoint, shutdown, move |request| handler(pool.clone(), request)).await?;
        Ok(())
    });
}
