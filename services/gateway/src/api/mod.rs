//! HTTP routes. [`register`] is the one place routes are added; it returns the list of what it
//! registered so a test can hold it against the OpenAPI document.

pub mod body_limit;
pub mod bot;
pub mod common_responses;
pub mod docs;
pub mod errors;
pub mod family;
pub mod json;
pub mod method;
pub mod ops;
pub mod partner;
pub mod rate_limit;
pub mod time;

use actix_web::http::Method;
use actix_web::{FromRequest, Handler, Responder, web};

/// A registered route: method and path template, as the OpenAPI document writes them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RouteDef {
    /// HTTP method.
    pub method: Method,
    /// Path template (`/api/bots/{slug}`).
    pub path: &'static str,
}

/// Registers routes on an actix `ServiceConfig` and records each one.
pub struct Router<'a> {
    config: &'a mut web::ServiceConfig,
    routes: Vec<RouteDef>,
}

impl<'a> Router<'a> {
    fn new(config: &'a mut web::ServiceConfig) -> Self {
        Self { config, routes: Vec::new() }
    }

    /// Adds `method path` served by `handler`.
    pub fn route<F, Args>(&mut self, method: Method, path: &'static str, handler: F) -> &mut Self
    where
        F: Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        self.config.route(path, web::method(method.clone()).to(handler));
        self.routes.push(RouteDef { method, path });
        self
    }

    /// Adds a ready-made service that answers `GET path` (e.g. the docs UI).
    pub fn get_service<S>(&mut self, path: &'static str, service: S) -> &mut Self
    where
        S: actix_web::dev::HttpServiceFactory + 'static,
    {
        self.config.service(service);
        self.routes.push(RouteDef { method: Method::GET, path });
        self
    }
}

/// Registers every route of the gateway and returns what it registered. What no route takes
/// goes to [`method::fallback`]: 405 on a known path, else 404.
pub fn register(config: &mut web::ServiceConfig) -> Vec<RouteDef> {
    let mut router = Router::new(config);
    ops::routes(&mut router);
    bot::routes(&mut router);
    partner::routes(&mut router);
    docs::routes(&mut router);
    let routes = router.routes;
    config.default_service(method::fallback(&routes));
    routes
}
