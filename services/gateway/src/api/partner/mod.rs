//! The Partner API (`/partner/v1/...`, reference 003 and docs/api/partner.md): backtests,
//! users, hosted bots, signals, and the reference data (exchanges, markets, scripts).
//!
//! Every handler: authenticate the partner key with the ledger → check the request's shape →
//! one request to the owning service → its reply in the `{isSuccess, code, message, data}`
//! envelope.

pub mod auth;
pub mod backtest;
pub mod bots;
pub mod docs;
pub mod errors;
pub mod fields;
pub mod paging;
pub mod reference;
pub mod signals;
pub mod svg;
pub mod users;

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
        .route(Method::GET, "/partner/v1/bots/backtest/{id}/equity.svg", backtest::equity_svg)
        .route(Method::POST, "/partner/v1/bots/list", bots::list)
        .route(Method::POST, "/partner/v1/bots/user", bots::user)
        .route(Method::POST, "/partner/v1/bots/get", bots::get)
        .route(Method::POST, "/partner/v1/bots/create", bots::create)
        .route(Method::POST, "/partner/v1/bots/edit", bots::edit)
        .route(Method::POST, "/partner/v1/bots/copy", bots::copy)
        .route(Method::POST, "/partner/v1/bots/start", bots::start)
        .route(Method::POST, "/partner/v1/bots/stop", bots::stop)
        .route(Method::POST, "/partner/v1/bots/delete", bots::delete)
        .route(Method::POST, "/partner/v1/bots/preview", bots::preview::preview)
        .route(Method::POST, "/partner/v1/bots/orders", bots::runtime::orders)
        .route(Method::POST, "/partner/v1/bots/logs", bots::runtime::logs)
        .route(Method::POST, "/partner/v1/bots/positions/open", bots::runtime::open_positions)
        .route(Method::POST, "/partner/v1/bots/positions/closed", bots::runtime::closed_positions)
        .route(Method::POST, "/partner/v1/bots/positions/orders", bots::runtime::position_orders)
        .route(Method::GET, "/partner/v1/exchanges", reference::exchanges)
        .route(Method::GET, "/partner/v1/markets", reference::markets)
        .route(Method::GET, "/partner/v1/scripts", reference::scripts)
        .route(Method::POST, "/partner/v1/scripts/script", reference::script)
        .route(Method::POST, "/partner/v1/users/list", users::list)
        .route(Method::POST, "/partner/v1/users/get", users::get)
        .route(Method::POST, "/partner/v1/users/create", users::create)
        .route(Method::POST, "/partner/v1/users/delete", users::delete)
        .route(Method::POST, "/partner/v1/signals/send", signals::send)
        .route(Method::POST, "/partner/v1/signals/get", signals::get);
}
