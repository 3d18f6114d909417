//! The subjects the ledger answers: thin handlers that decode, call a usecase and reply.

use crate::usecase;
use platform::Backend;
use platform::db::PgPool;
use platform::idempotency;

/// Starts a responder per endpoint; each drains on shutdown.
pub fn serve(backend: &Backend) {
    let subjects = backend.subjects.clone();
    let pool = backend.pool.clone();

    respond(backend, "authenticate", subjects.authenticate(), &pool, |pool, credential| async move {
        usecase::auth::authenticate(&pool, credential).await
    });
    respond(backend, "partner user", subjects.partner_user(), &pool, |pool, request| async move {
        usecase::partner_users::get(&pool, request).await
    });
    respond(backend, "bot config", subjects.bot_config(), &pool, |pool, request| async move {
        usecase::bot_config::get(&pool, request).await
    });
    let events = subjects.clone();
    respond(backend, "create participations", subjects.create_participations(), &pool, move |pool, command| {
        let events = events.clone();
        async move {
            let scope = *command.command.bot_id.as_uuid();
            idempotency::run(&pool, scope, command, |tx, request| {
                Box::pin(async move { usecase::participations::create(tx, &events, request).await })
            })
            .await
        }
    });
    respond(backend, "upsert states", subjects.upsert_states(), &pool, |pool, command| async move {
        let scope = *command.command.bot_id.as_uuid();
        idempotency::run(&pool, scope, command, |tx, request| Box::pin(usecase::states::upsert(tx, request))).await
    });
    respond(backend, "bot states", subjects.bot_states(), &pool, |pool, request| async move {
        usecase::states::list(&pool, request).await
    });
    respond(backend, "create trade", subjects.create_trade(), &pool, |pool, command| async move {
        let scope = *command.command.bot_id.as_uuid();
        idempotency::run(&pool, scope, command, |tx, request| Box::pin(usecase::trades::create(tx, request))).await
    });
    respond(backend, "list trades", subjects.list_trades(), &pool, |pool, request| async move {
        usecase::trades::list(&pool, request).await
    });
    respond(backend, "get trade", subjects.get_trade(), &pool, |pool, request| async move {
        usecase::trades::get(&pool, request).await
    });
    respond(backend, "update trade", subjects.update_trade(), &pool, |pool, request| async move {
        usecase::trades::update(&pool, request).await
    });
    respond(backend, "add transactions", subjects.add_transactions(), &pool, |pool, command| async move {
        let scope = *command.command.bot_id.as_uuid();
        idempotency::run(&pool, scope, command, |tx, request| Box::pin(usecase::trades::add_transactions(tx, request)))
            .await
    });
    respond(backend, "update transaction", subjects.update_transaction(), &pool, |pool, request| async move {
        usecase::trades::update_transaction(&pool, request).await
    });
    respond(backend, "trade participations", subjects.trade_participations(), &pool, |pool, request| async move {
        usecase::trades::participations(&pool, request).await
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
