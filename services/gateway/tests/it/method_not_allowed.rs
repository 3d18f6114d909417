//! Every registered path answers a method it does not have with 405, an `Allow` header that
//! lists its methods, and the family's body, before authentication: there is no backend here,
//! so a request that reached authentication would get 503 instead.

use crate::rate_limit::{Limited, generous};
use reqwest::Method;
use serde_json::Value;
use std::collections::BTreeMap;
use utoipa::OpenApi;

const METHODS: [Method; 6] = [Method::GET, Method::POST, Method::PUT, Method::PATCH, Method::DELETE, Method::OPTIONS];

/// Every registered path template with its methods.
fn registered() -> BTreeMap<&'static str, Vec<Method>> {
    let mut routes = Vec::new();
    let _app = actix_web::App::new().configure(|config| routes = gateway::api::register(config));
    let mut paths: BTreeMap<&'static str, Vec<Method>> = BTreeMap::new();
    for route in routes {
        let method = Method::from_bytes(route.method.as_str().as_bytes()).unwrap();
        paths.entry(route.path).or_default().push(method);
    }
    paths
}

/// A concrete path for a template.
fn concrete(template: &str) -> String {
    template
        .replace("{slug}", "alpha")
        .replace("{tradeId}", "0190d5f0-1a2b-7c3d-8e4f-5a6b7c8d9e0f")
        .replace("{transactionId}", "0190d5f0-1a2b-7c3d-8e4f-000000000001")
        .replace("{id}", "0190d5f0-1a2b-7c3d-8e4f-000000000002")
        .replace("{file}", "index.html")
}

/// The 405 example the OpenAPI document gives for every operation of `template`.
fn documented_405s(template: &str) -> Vec<(Value, Value)> {
    let document = serde_json::to_value(gateway::openapi::ApiDoc::openapi()).unwrap();
    document["paths"][template]
        .as_object()
        .unwrap()
        .values()
        .map(|operation| {
            let response = &operation["responses"]["405"];
            (
                response["content"]["application/json"]["example"].clone(),
                response["headers"]["Allow"]["example"].clone(),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn every_path_answers_an_undeclared_method_with_405_and_allow_before_authentication() {
    let gateway = Limited::gateway(generous()).await;
    let paths = registered();
    assert!(paths.len() >= 20, "{paths:?}");
    let mut checked = 0;
    for (template, declared) in &paths {
        let path = concrete(template);
        let mut allow: Vec<&str> = declared.iter().map(Method::as_str).collect();
        allow.sort_unstable();
        let allow = allow.join(", ");
        for method in METHODS.iter().filter(|method| !declared.contains(method)) {
            // A key of every family: were authentication to run, it would answer 503.
            let headers = [("x-api-key", "some-key"), ("authorization", "Bearer some-token")];
            let response = test_support::http_client()
                .request(method.clone(), format!("http://{}{path}", gateway.addr()))
                .header(headers[0].0, headers[0].1)
                .header(headers[1].0, headers[1].1)
                .send()
                .await
                .unwrap();
            assert_eq!(response.status().as_u16(), 405, "{method} {path}");
            let got_allow = response.headers().get("allow").map(|value| value.to_str().unwrap().to_string());
            assert_eq!(got_allow.as_deref(), Some(allow.as_str()), "{method} {path}");
            let body: Value = response.json().await.unwrap();
            match gateway::api::family::Family::of(&path) {
                gateway::api::family::Family::Bot => {
                    assert_eq!(body, serde_json::json!({"error": "Method not allowed", "code": "METHOD_NOT_ALLOWED"}));
                }
                gateway::api::family::Family::Partner => {
                    assert_eq!(
                        body,
                        serde_json::json!({"isSuccess": false, "code": 1405, "message": "Method not allowed", "data": null})
                    );
                }
                gateway::api::family::Family::User => assert_eq!(body["error"], "method_not_allowed", "{path}"),
            }
            for (example, allow_example) in documented_405s(template) {
                assert_eq!(example, body, "the documented 405 of {template}");
                assert_eq!(allow_example, Value::from(allow.clone()), "the documented Allow of {template}");
            }
            checked += 1;
        }
    }
    assert!(checked >= 100, "{checked} requests");
}

#[tokio::test(flavor = "multi_thread")]
async fn declared_methods_and_unknown_paths_are_untouched() {
    let gateway = Limited::gateway(generous()).await;
    let client = test_support::http_client();
    let url = |path: &str| format!("http://{}{path}", gateway.addr());
    // A declared method reaches its handler: here, the missing-key check.
    let response = client.get(url("/api/bots/alpha")).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 401);
    assert!(response.headers().get("allow").is_none());
    // An unknown path (or one a segment too long) stays a plain 404.
    for path in ["/nowhere", "/api/bots/alpha/nothing", "/partner/v1/bots/backtest/x/status/more"] {
        let response = client.delete(url(path)).send().await.unwrap();
        assert_eq!(response.status().as_u16(), 404, "{path}");
        assert!(response.headers().get("allow").is_none(), "{path}");
    }
}
