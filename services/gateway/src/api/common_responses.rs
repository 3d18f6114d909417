//! The 405 and 429 that every route can answer, added to each operation of the OpenAPI
//! document in its family's shape: the body the gateway sends as the example, and the header
//! that goes with it (`Allow`, `Retry-After`). Added here, once, rather than route by route, so
//! that no route (present or future) misses them.

use super::errors::CommonError;
use super::family::Family;
use super::rate_limit;
use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::path::{Operation, PathItem};
use utoipa::openapi::schema::{AllOfBuilder, KnownFormat, ObjectBuilder, Schema, SchemaFormat, Type};
use utoipa::openapi::{ContentBuilder, OpenApi, Ref, RefOr, Response, ResponseBuilder};
use utoipa::{Modify, ToSchema};

/// `{error, message}`: the User API's error body (and the operational routes'), e.g.
/// `{"error": "rate_limited", "message": "..."}`.
#[derive(ToSchema)]
pub struct UserErrorBody {
    /// A snake_case code: `method_not_allowed`, `rate_limited`, `unavailable`, `timeout`, ...
    #[allow(dead_code)]
    error: String,
    /// What went wrong, for people.
    #[allow(dead_code)]
    message: String,
}

/// Adds 405 to every operation and 429 to every rate-limited one.
pub struct CommonResponses;

impl Modify for CommonResponses {
    fn modify(&self, openapi: &mut OpenApi) {
        for (path, item) in openapi.paths.paths.iter_mut() {
            let family = Family::of(path);
            let allow = methods(item).join(", ");
            let limited = rate_limit::is_limited(path);
            for operation in operations(item) {
                let responses = &mut operation.responses.responses;
                responses.entry("405".into()).or_insert_with(|| method_not_allowed(family, &allow));
                if limited {
                    responses.entry("429".into()).or_insert_with(|| too_many_requests(family));
                }
            }
        }
    }
}

fn slots(item: &mut PathItem) -> [(&'static str, &mut Option<Operation>); 8] {
    [
        ("DELETE", &mut item.delete),
        ("GET", &mut item.get),
        ("HEAD", &mut item.head),
        ("OPTIONS", &mut item.options),
        ("PATCH", &mut item.patch),
        ("POST", &mut item.post),
        ("PUT", &mut item.put),
        ("TRACE", &mut item.trace),
    ]
}

/// The methods a path has, as the gateway's `Allow` lists them (sorted).
fn methods(item: &mut PathItem) -> Vec<&'static str> {
    slots(item).into_iter().filter(|(_, operation)| operation.is_some()).map(|(method, _)| method).collect()
}

fn operations(item: &mut PathItem) -> impl Iterator<Item = &mut Operation> {
    slots(item).into_iter().filter_map(|(_, operation)| operation.as_mut())
}

/// The family's error body with its code fixed to `error`'s, so that a client (or a fuzzer)
/// can tell this refusal from any other body with the same status.
fn schema(family: Family, error: CommonError) -> RefOr<Schema> {
    let body = error.body(family);
    let (base, field, kind) = match family {
        Family::Bot => ("ErrorBody", "code", Type::String),
        Family::Partner => ("PartnerErrorEnvelope", "code", Type::Integer),
        Family::User => ("UserErrorBody", "error", Type::String),
    };
    let mut fixed = ObjectBuilder::new()
        .property(field, ObjectBuilder::new().schema_type(kind).enum_values(Some([body[field].clone()])));
    if family == Family::Partner {
        fixed = fixed.property("isSuccess", ObjectBuilder::new().schema_type(Type::Boolean).enum_values(Some([false])));
    }
    RefOr::T(Schema::AllOf(AllOfBuilder::new().item(Ref::from_schema_name(base)).item(fixed).build()))
}

fn body(family: Family, error: CommonError) -> utoipa::openapi::Content {
    ContentBuilder::new().schema(Some(schema(family, error))).example(Some(error.body(family))).build()
}

fn method_not_allowed(family: Family, allow: &str) -> RefOr<Response> {
    let code = match family {
        Family::Bot => "`METHOD_NOT_ALLOWED`",
        Family::Partner => "code 1405",
        Family::User => "`method_not_allowed`",
    };
    let allow_header = HeaderBuilder::new()
        .schema(Some(ObjectBuilder::new().schema_type(Type::String)))
        .description(Some("The methods this path has"))
        .example(Some(serde_json::json!(allow)))
        .build();
    ResponseBuilder::new()
        .description(format!(
            "The path exists but not with this method ({code}); `Allow` lists its methods. Answered before \
             authentication."
        ))
        .header("Allow", allow_header)
        .content("application/json", body(family, CommonError::MethodNotAllowed))
        .build()
        .into()
}

fn too_many_requests(family: Family) -> RefOr<Response> {
    let (code, who) = match family {
        Family::Bot => ("`RATE_LIMITED`", "this bot key"),
        Family::Partner => ("code 1429", "this partner key"),
        Family::User => ("`rate_limited`", "this token"),
    };
    let retry_after = HeaderBuilder::new()
        .schema(Some(
            ObjectBuilder::new()
                .schema_type(Type::Integer)
                .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int32)))
                .minimum(Some(1)),
        ))
        .description(Some("Seconds to wait before the next request is accepted"))
        .example(Some(serde_json::json!(1)))
        .build();
    ResponseBuilder::new()
        .description(format!(
            "Too many requests from {who} (from the client's IP address when it sends no key) ({code}); \
             retry after `Retry-After` seconds. Nothing was done and no backend was asked. Other keys are \
             not affected."
        ))
        .header("Retry-After", retry_after)
        .content("application/json", body(family, CommonError::RateLimited))
        .build()
        .into()
}

#[cfg(test)]
mod tests {
    use crate::openapi::ApiDoc;
    use serde_json::Value;
    use utoipa::OpenApi;

    #[test]
    fn every_operation_documents_405_and_every_limited_one_429_with_its_header_and_example() {
        let document = serde_json::to_value(ApiDoc::openapi()).unwrap();
        let mut operations = 0;
        for (path, item) in document["paths"].as_object().unwrap() {
            for (method, operation) in item.as_object().unwrap() {
                let responses = &operation["responses"];
                let not_allowed = &responses["405"];
                assert!(not_allowed["headers"]["Allow"]["example"].is_string(), "{method} {path}");
                assert!(not_allowed["content"]["application/json"]["example"].is_object(), "{method} {path}");
                let limited = &responses["429"];
                if ["/health", "/ready"].contains(&path.as_str()) {
                    assert_eq!(limited, &Value::Null, "{path} is never limited");
                } else {
                    assert_eq!(limited["headers"]["Retry-After"]["schema"]["type"], "integer", "{method} {path}");
                    let example = &limited["content"]["application/json"]["example"];
                    let shaped = example["code"] == "RATE_LIMITED"
                        || example["code"] == 1429
                        || example["error"] == "rate_limited";
                    assert!(shaped, "{method} {path}: {example}");
                }
                operations += 1;
            }
        }
        assert!(operations >= 20);
    }

    #[test]
    fn the_allow_example_lists_the_paths_methods() {
        let document = serde_json::to_value(ApiDoc::openapi()).unwrap();
        let state = &document["paths"]["/api/bots/{slug}/state"];
        assert_eq!(state["get"]["responses"]["405"]["headers"]["Allow"]["example"], "GET, POST");
        assert_eq!(state["post"]["responses"]["405"]["headers"]["Allow"]["example"], "GET, POST");
        let schema = &document["components"]["schemas"]["UserErrorBody"];
        assert_eq!(schema["required"], serde_json::json!(["error", "message"]));
        let code = |path: &str, status: &str, field: &str| {
            let schema = &document["paths"][path]["get"]["responses"][status]["content"]["application/json"]["schema"];
            schema["allOf"][1]["properties"][field]["enum"].clone()
        };
        assert_eq!(code("/api/bots/{slug}", "429", "code"), serde_json::json!(["RATE_LIMITED"]));
        assert_eq!(code("/api/bots/{slug}", "405", "code"), serde_json::json!(["METHOD_NOT_ALLOWED"]));
        assert_eq!(code("/partner/v1/bots/backtest/{id}/status", "429", "code"), serde_json::json!([1429]));
        assert_eq!(code("/partner/v1/bots/backtest/{id}/status", "405", "code"), serde_json::json!([1405]));
        assert_eq!(code("/status", "429", "error"), serde_json::json!(["rate_limited"]));
        assert_eq!(code("/health", "405", "error"), serde_json::json!(["method_not_allowed"]));
    }
}
