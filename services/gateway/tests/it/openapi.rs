//! Every registered route is in the OpenAPI document, and the document lists nothing else.

use actix_web::http::Method;
use std::collections::BTreeSet;
use utoipa::OpenApi;

fn registered() -> BTreeSet<(String, String)> {
    let mut routes = Vec::new();
    let _app = actix_web::App::new().configure(|config| routes = gateway::api::register(config));
    routes.into_iter().map(|route| (route.method.to_string(), route.path.to_string())).collect()
}

fn documented() -> BTreeSet<(String, String)> {
    let document = serde_json::to_value(gateway::openapi::ApiDoc::openapi()).unwrap();
    let mut out = BTreeSet::new();
    for (path, item) in document["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            if Method::from_bytes(method.to_uppercase().as_bytes()).is_ok() && method != "parameters" {
                out.insert((method.to_uppercase(), path.clone()));
            }
        }
    }
    out
}

#[test]
fn every_registered_route_is_documented_and_nothing_else() {
    let registered = registered();
    let documented = documented();
    assert!(registered.len() >= 6, "{registered:?}");
    let undocumented: Vec<_> = registered.difference(&documented).collect();
    let phantom: Vec<_> = documented.difference(&registered).collect();
    assert!(undocumented.is_empty(), "routes missing from the OpenAPI document: {undocumented:?}");
    assert!(phantom.is_empty(), "documented routes that are not registered: {phantom:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_served_document_is_the_generated_one() {
    let gateway = crate::support::Gateway::start().await;
    let served: serde_json::Value =
        test_support::http_client().get(gateway.url("/openapi.json")).send().await.unwrap().json().await.unwrap();
    assert_eq!(served, serde_json::to_value(gateway::openapi::ApiDoc::openapi()).unwrap());
    assert!(served["openapi"].as_str().unwrap().starts_with("3."));
}
