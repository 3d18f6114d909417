//! `GET /v1/accounts/{account}/orders/{id}`: the bearer check, the order's scripted step if
//! any, and Tradier's rate-limit headers.

use super::responses::{Body, json, text};
use super::{ResetConnection, State, key};
use crate::order;
use crate::script::{Step, TIMEOUT_HOLD_MS};
use hyper::header::{AUTHORIZATION, HeaderName, HeaderValue};
use hyper::{HeaderMap, Response, StatusCode};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Tradier's standard limit for `/accounts` resources in production (requests per minute).
const RATE_LIMIT_ALLOWED: u64 = 120;
/// What Tradier answers for a missing or unknown bearer token (the body is not documented;
/// this is the text its API gateway sends).
const INVALID_TOKEN_BODY: &str = "Invalid Access Token";
/// What the simulator answers for an order that is unknown or not visible yet: Tradier's
/// documented `errors` payload shape.
const NOT_FOUND_BODY: &str = r#"{"errors":{"error":["Order not found"]}}"#;

/// What one GET of an order should get, decided under the lock, acted on after it.
enum Decision {
    Unauthorized,
    Step(Step, String),
    Normal(String),
}

pub(super) async fn get_order(
    headers: &HeaderMap,
    state: &State,
    account: &str,
    order_id: &str,
) -> Result<Response<Body>, ResetConnection> {
    let presented = bearer(headers);
    let decision = {
        let mut inner = state.lock();
        let required = inner.tokens.get(account).cloned();
        let entry = inner.orders.entry(key(account, order_id)).or_default();
        entry.requests += 1;
        let authorized = match (&required, presented) {
            (_, None) => false,
            (None, Some(_)) => true,
            (Some(required), Some(presented)) => required == presented,
        };
        if !authorized {
            Decision::Unauthorized
        } else {
            let body = order::response_body(order_id, entry.held.as_ref());
            match entry.script.pop_front() {
                Some(step) => Decision::Step(step, body),
                None => Decision::Normal(body),
            }
        }
    };
    match decision {
        Decision::Unauthorized => Ok(text(StatusCode::UNAUTHORIZED, INVALID_TOKEN_BODY)),
        Decision::Normal(body) => Ok(order_response(body)),
        Decision::Step(step, body) => match step {
            Step::Delay { ms } => {
                tokio::time::sleep(Duration::from_millis(ms)).await;
                Ok(order_response(body))
            }
            Step::Timeout => {
                // Ends early only when the simulator stops (the connection task is aborted).
                tokio::time::sleep(Duration::from_millis(TIMEOUT_HOLD_MS)).await;
                Ok(order_response(body))
            }
            Step::RateLimited { reset_in_ms } => {
                let mut response = text(StatusCode::TOO_MANY_REQUESTS, "Rate limit exceeded");
                rate_limit_headers(response.headers_mut(), RATE_LIMIT_ALLOWED, reset_in_ms);
                Ok(response)
            }
            Step::ServerError { status } => {
                let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
                Ok(text(status, status.canonical_reason().unwrap_or("Server Error")))
            }
            Step::Reset => Err(ResetConnection),
            Step::NotFound => Ok(json(StatusCode::NOT_FOUND, NOT_FOUND_BODY.to_string())),
            Step::Malformed => {
                let mut cut = body.len() / 2;
                while !body.is_char_boundary(cut) {
                    cut -= 1;
                }
                Ok(json(StatusCode::OK, body[..cut].to_string()))
            }
        },
    }
}

/// The bearer token, if the request carries a non-empty one.
fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

fn order_response(body: String) -> Response<Body> {
    let mut response = json(StatusCode::OK, body);
    // Tradier sends its rate-limit headers on every answer; one request used of a fresh window.
    rate_limit_headers(response.headers_mut(), 1, 60_000);
    response
}

/// `X-Ratelimit-Allowed / -Used / -Available / -Expiry` as Tradier names them; the expiry is
/// epoch milliseconds (Tradier's documented example: `1369164360001`).
fn rate_limit_headers(headers: &mut HeaderMap, used: u64, reset_in_ms: u64) {
    let now_ms =
        u64::try_from(SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().as_millis()).unwrap_or(u64::MAX);
    let available = RATE_LIMIT_ALLOWED.saturating_sub(used);
    for (name, value) in [
        ("x-ratelimit-allowed", RATE_LIMIT_ALLOWED),
        ("x-ratelimit-used", used),
        ("x-ratelimit-available", available),
        ("x-ratelimit-expiry", now_ms.saturating_add(reset_in_ms)),
    ] {
        headers.insert(HeaderName::from_static(name), HeaderValue::from(value));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_tokens_are_read_case_insensitively() {
        let mut headers = HeaderMap::new();
        assert_eq!(bearer(&headers), None);
        headers.insert(AUTHORIZATION, HeaderValue::from_static("bearer abc"));
        assert_eq!(bearer(&headers), Some("abc"));
        headers.insert(AUTHORIZATION, HeaderValue::from_static("Bearer "));
        assert_eq!(bearer(&headers), None);
        headers.insert(AUTHORIZATION, HeaderValue::from_static("Basic abc"));
        assert_eq!(bearer(&headers), None);
    }
}
