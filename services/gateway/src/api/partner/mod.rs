//! The Partner API (`/partner/v1/...`, reference 003 and docs/api/partner.md). Backtests so far.
//!
//! Every handler: authenticate the partner key with the ledger → check the request's shape →
//! one request to the owning service → its reply in the `{isSuccess, code, message, data}`
//! envelope.

pub mod auth;
pub mod backtest;
pub mod docs;
pub mod errors;
pub mod svg;

use super::Router;
use actix_web::http::Method;

pub(super) fn routes(router: &mut Router<'_>) {
    router
        .route(Method::POST, "/partner/v1/bots/backtest", backtest::start)
        .route(Method::GET, "/partner/v1/bots/backtest/{id}/status", backtest::status)
        .route(Method::GET, "/partner/v1/bots/backtest/{id}/results", backtest::results)
        .route(Method::GET, "/partner/v1/bots/backtest/{id}/logs", backtest::logs)
        .route(Method::GET, "/partner/v1/bots/backtest/{id}/positions", backtest::positions)
        .route(Method::POST, "/partner/v1/bots/backtest/{id}/cancel", backtest::cancel)
        .route(Method::GET, "/partner/v1/bots/backtest/{id}/equity.svg", backtest::equity_svg);
}
