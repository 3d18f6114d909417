//! Reference data (reference 003, docs/api/partner.md#exchanges-markets-and-scripts): the
//! enabled exchanges and their markets (the ledger's catalogue, forwarded as it answers), and
//! the hosted bot types with their settings (the engine's own metadata, no bus call).

use super::auth::authenticate;
use super::docs::reference as docs;
use super::errors::{PartnerApiError, success, success_of};
use crate::api::json;
use crate::state::AppState;
use actix_web::{HttpRequest, HttpResponse, web};
use bus::messages::partner::reference::{ListExchanges, ListMarkets};
use engine::scripts::ScriptType;

/// The message of a missing or unknown script `type`.
pub const TYPE_MESSAGE: &str =
    "type must be one of spot_grid, futures_grid, spot_dollar_cost_averaging, futures_dollar_cost_averaging, webhook";

/// The enabled exchanges: `data` is the array `[{id, name, isSpot, isLeverage}]`.
#[utoipa::path(get, path = "/partner/v1/exchanges", tag = "partner-api",
    params(("x-api-key" = String, Header, description = "The partner's key")),
    responses(
        (status = 200, description = "`data`: the enabled exchanges", body = docs::ExchangesEnvelope,
            example = json!(docs::exchanges_example())),
        docs::ReferenceErrors))]
pub async fn exchanges(request: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, PartnerApiError> {
    authenticate(&request, &state).await?;
    let exchanges =
        bus::request_raw(&state.nats, &state.subjects.exchanges(), &ListExchanges {}, state.backend_timeout())
            .await
            .map_err(PartnerApiError::common)?;
    Ok(success(exchanges.get()))
}

/// The markets of the enabled exchanges with their trading rules: `data` is the array;
/// `isOpen` is the exchange's calendar now.
#[utoipa::path(get, path = "/partner/v1/markets", tag = "partner-api",
    params(("x-api-key" = String, Header, description = "The partner's key")),
    responses(
        (status = 200, description = "`data`: every market of the enabled exchanges", body = docs::MarketsEnvelope,
            example = json!(docs::markets_example())),
        docs::ReferenceErrors))]
pub async fn markets(request: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, PartnerApiError> {
    authenticate(&request, &state).await?;
    let markets = bus::request_raw(&state.nats, &state.subjects.markets(), &ListMarkets {}, state.backend_timeout())
        .await
        .map_err(PartnerApiError::common)?;
    Ok(success(markets.get()))
}

/// The hosted bot types with their settings metadata: `data` is the array of the five scripts.
#[utoipa::path(get, path = "/partner/v1/scripts", tag = "partner-api",
    params(("x-api-key" = String, Header, description = "The partner's key")),
    responses(
        (status = 200, description = "`data`: the five scripts, in the reference's order", body = docs::ScriptsEnvelope,
            example = json!(docs::scripts_example())),
        docs::ReferenceErrors))]
pub async fn scripts(request: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, PartnerApiError> {
    authenticate(&request, &state).await?;
    success_of(&engine::scripts::scripts())
}

/// Reads the body of `scripts/script`: `{"type": "<script type>"}`.
pub fn parse_script(body: &[u8]) -> Result<ScriptType, PartnerApiError> {
    let invalid = |message: &str| PartnerApiError::Validation(message.to_string());
    let object = json::parse_body(body)
        .map_err(|_| invalid("Invalid JSON in request body"))?
        .ok_or_else(|| invalid("The request body must be a JSON object"))?;
    if let Some(message) = json::unknown_field(&object, &["type"], "") {
        return Err(PartnerApiError::Validation(message));
    }
    let name = object.get("type").and_then(|raw| json::as_string(raw)).ok_or_else(|| invalid(TYPE_MESSAGE))?;
    ScriptType::ALL.into_iter().find(|script| script.as_str() == name).ok_or_else(|| invalid(TYPE_MESSAGE))
}

/// One bot type with its settings: `{type, name, description, settings}`.
#[utoipa::path(post, path = "/partner/v1/scripts/script", tag = "partner-api",
    params(("x-api-key" = String, Header, description = "The partner's key")),
    request_body(content = docs::ScriptBody, example = json!({"type": "spot_grid"})),
    responses(
        (status = 200, description = "`data`: the script", body = docs::ScriptEnvelope,
            example = json!(docs::script_example())),
        docs::ScriptErrors))]
pub async fn script(
    request: HttpRequest,
    body: web::Bytes,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PartnerApiError> {
    authenticate(&request, &state).await?;
    let script_type = parse_script(&body)?;
    success_of(&engine::scripts::script(script_type))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(body: &str) -> String {
        match parse_script(body.as_bytes()) {
            Err(PartnerApiError::Validation(message)) => message,
            other => panic!("{body}: {other:?}"),
        }
    }

    #[test]
    fn the_script_type_is_one_of_the_five_wire_names() {
        for script in ScriptType::ALL {
            let body = format!(r#"{{"type": "{}"}}"#, script.as_str());
            assert_eq!(parse_script(body.as_bytes()), Ok(script));
        }
        assert_eq!(error(""), "Invalid JSON in request body");
        assert_eq!(error("[]"), "The request body must be a JSON object");
        assert_eq!(error(r#"{"type": "spot_grid", "x": 1}"#), "Unknown field 'x'");
        for bad in ["{}", r#"{"type": null}"#, r#"{"type": 1}"#, r#"{"type": "SPOT_GRID"}"#, r#"{"type": "grid"}"#] {
            assert_eq!(error(bad), TYPE_MESSAGE, "{bad}");
        }
    }

    #[test]
    fn scripts_serialize_as_the_reference_shows_them() {
        let scripts: serde_json::Value = serde_json::to_value(engine::scripts::scripts()).unwrap();
        let scripts = scripts.as_array().unwrap();
        let types: Vec<_> = scripts.iter().map(|script| script["type"].as_str().unwrap()).collect();
        assert_eq!(types, ScriptType::ALL.map(ScriptType::as_str));
        for script in scripts {
            for field in ["name", "description"] {
                assert!(script[field].as_str().is_some_and(|text| !text.is_empty()), "{field}: {script}");
            }
            for setting in script["settings"].as_array().unwrap() {
                for field in ["key", "group", "name", "description", "type", "value", "canBeEdited", "options"] {
                    assert!(setting.get(field).is_some(), "{field} missing: {setting}");
                }
            }
        }
    }
}
