//! The subjects the ledger answers: thin handlers that decode, call a usecase and reply; and
//! the events it consumes ([`consumers`]).

pub mod consumers;

use crate::usecase;
use platform::Backend;
use platform::idempotency;

/// Starts a responder per endpoint; each drains on shutdown.
pub fn serve(backend: &Backend) {
    let subjects = backend.subjects.clone();

    backend.respond("authenticate", subjects.authenticate(), |pool, credential| async move {
        usecase::auth::authenticate(&pool, credential).await
    });
    backend.respond("partner user", subjects.partner_user(), |pool, request| async move {
        usecase::partner_users::get(&pool, request).await
    });
    backend.respond("partner users", subjects.partner_users(), |pool, request| async move {
        usecase::partner_users::list(&pool, request).await
    });
    backend.respond("create partner user", subjects.create_partner_user(), |pool, command| async move {
        let scope = command.command.partner_id;
        idempotency::run(&pool, scope, command, |tx, request| Box::pin(usecase::partner_users::create(tx, request)))
            .await
    });
    let events = subjects.clone();
    backend.respond("delete partner user", subjects.delete_partner_user(), move |pool, command| {
        let events = events.clone();
        async move {
            let scope = command.command.partner_id;
            idempotency::run(&pool, scope, command, |tx, request| {
                Box::pin(async move { usecase::partner_users::delete(tx, &events, request).await })
            })
            .await
        }
    });
    backend.respond("hosted bots", subjects.hosted_bots(), |pool, request| async move {
        usecase::hosted_bots::list(&pool, request).await
    });
    backend.respond("hosted bot", subjects.hosted_bot(), |pool, request| async move {
        usecase::hosted_bots::get(&pool, request).await
    });
    backend.respond("hosted bot revisions", subjects.hosted_bot_revisions(), |pool, request| async move {
        usecase::hosted_bots::revisions(&pool, request).await
    });
    backend.respond("hosted bot definitions", subjects.hosted_bot_definitions(), |pool, request| async move {
        usecase::hosted_bots::events::definitions(&pool, request).await
    });
    backend.respond("check hosted bot", subjects.check_hosted_bot(), |pool, request| async move {
        usecase::hosted_bots::writes::check(&pool, request).await
    });
    backend.respond("signal bots", subjects.signal_bots(), |pool, request| async move {
        usecase::hosted_bots::signal_bots(&pool, request).await
    });
    hosted_bot_writes(backend);
    backend.respond("exchanges", subjects.exchanges(), |pool, _request| async move {
        usecase::catalogue::exchanges(&pool).await
    });
    backend.respond(
        "markets",
        subjects.markets(),
        |pool, _request| async move { usecase::catalogue::markets(&pool).await },
    );
    backend.respond("bot config", subjects.bot_config(), |pool, request| async move {
        usecase::bot_config::get(&pool, request).await
    });
    let events = subjects.clone();
    backend.respond("create participations", subjects.create_participations(), move |pool, command| {
        let events = events.clone();
        async move {
            let scope = command.command.bot_id;
            idempotency::run(&pool, scope, command, |tx, request| {
                Box::pin(async move { usecase::participations::create(tx, &events, request).await })
            })
            .await
        }
    });
    backend.respond("upsert states", subjects.upsert_states(), |pool, command| async move {
        let scope = command.command.bot_id;
        idempotency::run(&pool, scope, command, |tx, request| Box::pin(usecase::states::upsert(tx, request))).await
    });
    backend.respond("bot states", subjects.bot_states(), |pool, request| async move {
        usecase::states::list(&pool, request).await
    });
    backend.respond("create trade", subjects.create_trade(), |pool, command| async move {
        let scope = command.command.bot_id;
        idempotency::run(&pool, scope, command, |tx, request| Box::pin(usecase::trades::create(tx, request))).await
    });
    backend.respond("list trades", subjects.list_trades(), |pool, request| async move {
        usecase::trades::list(&pool, request).await
    });
    backend.respond("get trade", subjects.get_trade(), |pool, request| async move {
        usecase::trades::get(&pool, request).await
    });
    backend.respond("update trade", subjects.update_trade(), |pool, request| async move {
        usecase::trades::update(&pool, request).await
    });
    backend.respond("add transactions", subjects.add_transactions(), |pool, command| async move {
        let scope = command.command.bot_id;
        idempotency::run(&pool, scope, command, |tx, request| Box::pin(usecase::trades::add_transactions(tx, request)))
            .await
    });
    backend.respond("update transaction", subjects.update_transaction(), |pool, request| async move {
        usecase::trades::update_transaction(&pool, request).await
    });
    backend.respond("trade participations", subjects.trade_participations(), |pool, request| async move {
        usecase::trades::participations(&pool, request).await
    });
    backend.respond("trade transactions", subjects.trade_transactions(), |pool, request| async move {
        usecase::trades::transactions(&pool, request).await
    });
}

/// The hosted bot writes: each runs once per `Idempotency-Key`, scoped to the partner, with its
/// events in the same transaction.
fn hosted_bot_writes(backend: &Backend) {
    use usecase::hosted_bots::writes;
    let subjects = backend.subjects.clone();
    macro_rules! write {
        ($name:literal, $endpoint:ident, $write:path) => {{
            let events = subjects.clone();
            backend.respond($name, subjects.$endpoint(), move |pool, command| {
                let events = events.clone();
                async move {
                    let scope = command.command.partner_id;
                    idempotency::run(&pool, scope, command, |tx, request| {
                        Box::pin(async move { $write(tx, &events, request).await })
                    })
                    .await
                }
            });
        }};
    }
    write!("create hosted bot", create_hosted_bot, writes::create);
    write!("edit hosted bot", edit_hosted_bot, writes::edit);
    write!("copy hosted bot", copy_hosted_bot, writes::copy);
    write!("set hosted bot status", set_hosted_bot_status, writes::set_status);
    write!("delete hosted bot", delete_hosted_bot, writes::delete);
}
