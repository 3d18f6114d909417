//! 405 for a method that a known path does not have, in the family's shape, with an `Allow`
//! header listing the methods it does have.
//!
//! actix registers each route as its own resource guarded by its method, so a request whose
//! method matches none of a path's routes falls through to the app's default service. That
//! service is [`fallback`]: it holds every registered route, answers 405 when the path matches
//! one of them and the plain 404 otherwise. It runs instead of any handler, so before
//! authentication and without a backend.

use super::RouteDef;
use super::errors::CommonError;
use super::family::Family;
use actix_web::dev::ResourceDef;
use actix_web::http::Method;
use actix_web::http::header::{ALLOW, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, Route, web};
use std::sync::Arc;

/// The registered path templates, each with its methods.
pub struct KnownPaths {
    paths: Vec<(ResourceDef, Vec<Method>)>,
}

impl KnownPaths {
    /// Groups `routes` by path template.
    pub fn new(routes: &[RouteDef]) -> Self {
        let mut paths: Vec<(ResourceDef, Vec<Method>)> = Vec::new();
        for route in routes {
            match paths.iter_mut().find(|(pattern, _)| pattern.pattern() == Some(route.path)) {
                Some((_, methods)) => methods.push(route.method.clone()),
                None => paths.push((ResourceDef::new(route.path), vec![route.method.clone()])),
            }
        }
        Self { paths }
    }

    /// The methods `path` has (sorted, once each), or `None` for a path no route has.
    pub fn allowed(&self, path: &str) -> Option<Vec<Method>> {
        let mut methods: Vec<Method> = self
            .paths
            .iter()
            .filter(|(pattern, _)| pattern.is_match(path))
            .flat_map(|(_, methods)| methods.iter().cloned())
            .collect();
        if methods.is_empty() {
            return None;
        }
        methods.sort_by(|a, b| a.as_str().cmp(b.as_str()));
        methods.dedup();
        Some(methods)
    }

    /// 405 with `Allow` for a known path, else 404 (empty, as actix answers an unknown path).
    pub fn answer(&self, request: &HttpRequest) -> HttpResponse {
        let Some(methods) = self.allowed(request.path()) else { return HttpResponse::NotFound().finish() };
        method_not_allowed(Family::of(request.path()), &methods)
    }
}

/// The 405 of `family` for a path that has `methods`.
pub fn method_not_allowed(family: Family, methods: &[Method]) -> HttpResponse {
    let allow = methods.iter().map(Method::as_str).collect::<Vec<_>>().join(", ");
    let mut response = CommonError::MethodNotAllowed.respond(family);
    if let Ok(value) = HeaderValue::from_str(&allow) {
        response.headers_mut().insert(ALLOW, value);
    }
    response
}

/// The app's default service: 405 or 404 for what no route took.
pub fn fallback(routes: &[RouteDef]) -> Route {
    let known = Arc::new(KnownPaths::new(routes));
    web::to(move |request: HttpRequest| {
        let known = Arc::clone(&known);
        async move { known.answer(&request) }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::body::to_bytes;
    use actix_web::test::TestRequest;
    use serde_json::{Value, json};

    fn known() -> KnownPaths {
        let route = |method: Method, path: &'static str| RouteDef { method, path };
        KnownPaths::new(&[
            route(Method::POST, "/api/bots/{slug}/state"),
            route(Method::GET, "/api/bots/{slug}/state"),
            route(Method::GET, "/api/bots/{slug}"),
            route(Method::POST, "/partner/v1/bots/backtest/{id}/cancel"),
            route(Method::GET, "/health"),
        ])
    }

    async fn answer(method: Method, path: &str) -> (u16, Option<String>, Value) {
        let request = TestRequest::default().method(method).uri(path).to_http_request();
        let response = known().answer(&request);
        let status = response.status().as_u16();
        let allow = response.headers().get(ALLOW).map(|value| value.to_str().unwrap().to_string());
        let body = to_bytes(response.into_body()).await.unwrap();
        (status, allow, if body.is_empty() { Value::Null } else { serde_json::from_slice(&body).unwrap() })
    }

    #[test]
    fn a_path_gathers_the_methods_of_all_its_routes() {
        let known = known();
        assert_eq!(known.allowed("/api/bots/alpha/state"), Some(vec![Method::GET, Method::POST]));
        assert_eq!(known.allowed("/api/bots/alpha"), Some(vec![Method::GET]));
        assert_eq!(known.allowed("/api/bots/alpha/nothing"), None);
        assert_eq!(known.allowed("/api/bots"), None);
    }

    #[actix_web::test]
    async fn a_known_path_answers_405_with_allow_in_its_familys_shape() {
        assert_eq!(
            answer(Method::DELETE, "/api/bots/alpha/state").await,
            (405, Some("GET, POST".into()), json!({"error": "Method not allowed", "code": "METHOD_NOT_ALLOWED"}))
        );
        let (status, allow, body) = answer(Method::GET, "/partner/v1/bots/backtest/x/cancel").await;
        assert_eq!((status, allow.as_deref()), (405, Some("POST")));
        assert_eq!(body, json!({"isSuccess": false, "code": 1405, "message": "Method not allowed", "data": null}));
        let (status, allow, body) = answer(Method::PUT, "/health").await;
        assert_eq!((status, allow.as_deref(), &body["error"]), (405, Some("GET"), &json!("method_not_allowed")));
    }

    #[actix_web::test]
    async fn an_unknown_path_stays_a_plain_404() {
        assert_eq!(answer(Method::GET, "/api/bots/alpha/nothing").await, (404, None, Value::Null));
        assert_eq!(answer(Method::POST, "/nowhere").await, (404, None, Value::Null));
    }
}
