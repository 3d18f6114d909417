//! The subjects the executor answers: thin handlers that decode, call a usecase and reply; and
//! the events it consumes ([`consumers`]).

pub mod consumers;

use crate::usecase;
use platform::Backend;

/// Starts a responder per endpoint; each drains on shutdown.
pub fn serve(backend: &Backend) {
    let subjects = backend.subjects.clone();
    let (events, instance) = (subjects.clone(), backend.instance.clone());
    backend.respond("start backtest", subjects.start_backtest(), move |pool, request| {
        let (events, instance) = (events.clone(), instance.clone());
        async move { usecase::start::start(&pool, &events, &instance, request).await }
    });
    backend.respond("backtest status", subjects.backtest_status(), |pool, request| async move {
        usecase::queries::status(&pool, request).await
    });
    backend.respond("backtest results", subjects.backtest_results(), |pool, request| async move {
        usecase::queries::results(&pool, request).await
    });
    backend.respond("backtest logs", subjects.backtest_logs(), |pool, request| async move {
        usecase::queries::logs(&pool, request).await
    });
    backend.respond("backtest positions", subjects.backtest_positions(), |pool, request| async move {
        usecase::queries::positions(&pool, request).await
    });
    backend.respond("backtest equity", subjects.backtest_equity(), |pool, request| async move {
        usecase::queries::equity(&pool, request).await
    });
    backend.respond("cancel backtest", subjects.cancel_backtest(), |pool, request| async move {
        usecase::queries::cancel(&pool, request).await
    });
}
