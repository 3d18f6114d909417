//! The control endpoint: `/_feed/...` over a small hyper server, like tradier-sim's `/_sim`.
//!
//! ```text
//!  accept loop ──spawns──► one task per connection (hyper http1) ──► route(request)
//!       │                                                               ├─ GET  /_feed/symbols
//!       └── on shutdown: stops accepting, lets open connections finish   ├─ PUT  /_feed/symbols/{symbol}
//!           their request (up to http.shutdown_timeout_secs), drops them ├─ POST /_feed/quotes
//!                                                                        └─ GET  /_feed/health
//! ```
//!
//! Handlers are thin: read the body into a request type (field by field, so a 400 names the
//! field), call the [`Board`], answer JSON. A refused request publishes nothing.

use crate::board::{Board, BoardError, Mode, PushedQuote};
use bus::messages::market::MarketSymbol;
use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::header::{CONTENT_TYPE, HeaderValue};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use rust_decimal::Decimal;
use serde_json::{Map, Value};
use std::convert::Infallible;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::net::TcpListener;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

/// Control bodies are tiny; anything bigger is refused.
const MAX_BODY_BYTES: usize = 64 * 1024;

type Body = Full<Bytes>;

/// Serves `listener` until `shutdown`, then gives open connections `grace` to finish.
pub async fn serve(listener: TcpListener, board: Arc<Board>, shutdown: CancellationToken, grace: Duration) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            () = shutdown.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _peer)) => {
                    let board = Arc::clone(&board);
                    let shutdown = shutdown.clone();
                    connections.spawn(async move {
                        let service = service_fn(move |request| handle(request, Arc::clone(&board)));
                        let connection = http1::Builder::new().serve_connection(TokioIo::new(stream), service);
                        tokio::pin!(connection);
                        // Errors here are the client going away: nothing to answer.
                        tokio::select! {
                            _ = connection.as_mut() => {}
                            () = shutdown.cancelled() => {
                                connection.as_mut().graceful_shutdown();
                                let _ = connection.await;
                            }
                        }
                    });
                }
                Err(error) => {
                    tracing::warn!(%error, "market-feed failed to accept a connection");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
    drop(listener);
    if tokio::time::timeout(grace, async { while connections.join_next().await.is_some() {} }).await.is_err() {
        tracing::warn!(
            connections = connections.len(),
            "control connections still open after the grace period; closing them"
        );
    }
    connections.shutdown().await;
}

async fn handle(request: Request<Incoming>, board: Arc<Board>) -> Result<Response<Body>, Infallible> {
    let started = Instant::now();
    let method = request.method().clone();
    let path = request.uri().path().to_string();
    let response = route(request, &board).await;
    let duration_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    tracing::info!(
        http.method = %method,
        http.path = %path,
        http.status = response.status().as_u16(),
        duration_ms,
        "market-feed request"
    );
    Ok(response)
}

async fn route(request: Request<Incoming>, board: &Board) -> Response<Body> {
    let path = request.uri().path().to_string();
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    let method = request.method().clone();
    match (method, segments.as_slice()) {
        (Method::GET, ["_feed", "health"]) => json(StatusCode::OK, &serde_json::json!({ "status": "ok" })),
        (Method::GET, ["_feed", "symbols"]) => json(StatusCode::OK, &serde_json::json!({ "symbols": board.symbols() })),
        (Method::PUT, ["_feed", "symbols", symbol]) => {
            let symbol = match MarketSymbol::new(*symbol) {
                Ok(symbol) => symbol,
                Err(error) => return bad_request(error.to_string()),
            };
            match read_object(request).await.and_then(|body| mode(&body)) {
                Ok(mode) => answer(board.set_mode(&symbol, mode)),
                Err(message) => bad_request(message),
            }
        }
        (Method::POST, ["_feed", "quotes"]) => match read_object(request).await.and_then(|body| pushed_quote(&body)) {
            Ok(pushed) => answer(board.publish_pushed(pushed).await),
            Err(message) => bad_request(message),
        },
        (method, _) => error(StatusCode::NOT_FOUND, format!("no route for {method} {path}")),
    }
}

/// The body of `PUT /_feed/symbols/{symbol}`: `{"mode": "hold" | "replay"}`.
fn mode(body: &Map<String, Value>) -> Result<Mode, String> {
    only_fields(body, &["mode"])?;
    match body.get("mode") {
        None | Some(Value::Null) => Err("mode is required: \"hold\" or \"replay\"".to_string()),
        Some(Value::String(word)) if word == Mode::Hold.as_str() => Ok(Mode::Hold),
        Some(Value::String(word)) if word == Mode::Replay.as_str() => Ok(Mode::Replay),
        Some(other) => Err(format!("mode must be \"hold\" or \"replay\", not {other}")),
    }
}

/// The body of `POST /_feed/quotes`: `{symbol, bid, ask, last, timeMs?}`.
fn pushed_quote(body: &Map<String, Value>) -> Result<PushedQuote, String> {
    only_fields(body, &["symbol", "bid", "ask", "last", "timeMs"])?;
    let symbol = match body.get("symbol") {
        None | Some(Value::Null) => return Err("symbol is required".to_string()),
        Some(Value::String(symbol)) => MarketSymbol::new(symbol.clone()).map_err(|error| error.to_string())?,
        Some(other) => return Err(format!("symbol must be a string, not {other}")),
    };
    let time_ms = match body.get("timeMs") {
        None | Some(Value::Null) => None,
        Some(Value::Number(number)) => match number.as_i64() {
            Some(time_ms) if time_ms >= 0 => Some(time_ms),
            _ => return Err(format!("timeMs must be a whole, non-negative number of Unix milliseconds, not {number}")),
        },
        Some(other) => return Err(format!("timeMs must be a number of Unix milliseconds, not {other}")),
    };
    Ok(PushedQuote { symbol, time_ms, bid: price(body, "bid")?, ask: price(body, "ask")?, last: price(body, "last")? })
}

/// A price: a JSON number or a decimal string (exact, e.g. `"30015.32"`).
fn price(body: &Map<String, Value>, field: &str) -> Result<Decimal, String> {
    let text = match body.get(field) {
        None | Some(Value::Null) => return Err(format!("{field} is required")),
        Some(Value::String(text)) => text.clone(),
        Some(Value::Number(number)) => number.to_string(),
        Some(other) => return Err(format!("{field} must be a number, not {other}")),
    };
    Decimal::from_str_exact(&text)
        .or_else(|_| Decimal::from_scientific(&text))
        .map_err(|_| format!("{field} must be a number, not {text:?}"))
}

fn only_fields(body: &Map<String, Value>, known: &[&str]) -> Result<(), String> {
    match body.keys().find(|key| !known.contains(&key.as_str())) {
        Some(unknown) => Err(format!("unknown field {unknown:?}; expected {}", known.join(", "))),
        None => Ok(()),
    }
}

async fn read_object(request: Request<Incoming>) -> Result<Map<String, Value>, String> {
    let bytes = match Limited::new(request.into_body(), MAX_BODY_BYTES).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(error) => return Err(format!("the body could not be read: {error}")),
    };
    match serde_json::from_slice::<Value>(&bytes) {
        Ok(Value::Object(object)) => Ok(object),
        Ok(_) => Err("the body must be a JSON object".to_string()),
        Err(error) => Err(format!("the body is not JSON: {error}")),
    }
}

fn answer<T: serde::Serialize>(result: Result<T, BoardError>) -> Response<Body> {
    match result {
        Ok(value) => json(StatusCode::OK, &value),
        Err(BoardError::Invalid(invalid)) => bad_request(invalid.to_string()),
        Err(not_replayed @ BoardError::NotReplayed(_)) => error(StatusCode::NOT_FOUND, not_replayed.to_string()),
        Err(publish @ BoardError::Publish(_)) => {
            tracing::warn!(error = %publish, "a pushed quote was not published");
            error(StatusCode::SERVICE_UNAVAILABLE, publish.to_string())
        }
    }
}

fn bad_request(message: String) -> Response<Body> {
    error(StatusCode::BAD_REQUEST, message)
}

fn error(status: StatusCode, message: String) -> Response<Body> {
    json(status, &serde_json::json!({ "error": message }))
}

fn json<T: serde::Serialize>(status: StatusCode, value: &T) -> Response<Body> {
    let (status, body) = match serde_json::to_vec(value) {
        Ok(body) => (status, body),
        Err(_) => (StatusCode::INTERNAL_SERVER_ERROR, br#"{"error":"the answer could not be written"}"#.to_vec()),
    };
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    response.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal::dec;

    fn object(value: Value) -> Map<String, Value> {
        match value {
            Value::Object(object) => object,
            other => panic!("not an object: {other}"),
        }
    }

    #[test]
    fn prices_are_read_exactly_from_strings_and_numbers() {
        let body = object(serde_json::json!({
            "symbol": "SIM_T1_USDT_", "bid": "100.10", "ask": 100.3, "last": 1e2, "timeMs": 1_700_000_000_000_i64
        }));
        let pushed = pushed_quote(&body).unwrap();
        assert_eq!((pushed.bid, pushed.ask, pushed.last), (dec!(100.10), dec!(100.3), dec!(100)));
        assert_eq!(pushed.bid.to_string(), "100.10", "the written digits are kept");
        assert_eq!(pushed.time_ms, Some(1_700_000_000_000));
    }

    #[test]
    fn each_bad_field_is_named() {
        let ok = serde_json::json!({"symbol": "X", "bid": "1", "ask": "2", "last": "1.5"});
        let cases = [
            ("symbol", serde_json::json!("BRK.B"), "symbol \"BRK.B\""),
            ("symbol", serde_json::json!(7), "symbol must be a string"),
            ("bid", serde_json::json!("abc"), "bid must be a number"),
            ("ask", serde_json::json!(true), "ask must be a number"),
            ("last", Value::Null, "last is required"),
            ("timeMs", serde_json::json!(1.5), "timeMs must be a whole"),
            ("timeMs", serde_json::json!(-1), "timeMs must be a whole"),
            ("timeMs", serde_json::json!("1"), "timeMs must be a number"),
            ("colour", serde_json::json!("red"), "unknown field \"colour\""),
        ];
        for (field, value, expected) in cases {
            let mut body = object(ok.clone());
            body.insert(field.to_string(), value);
            let error = pushed_quote(&body).unwrap_err();
            assert!(error.contains(expected), "{field}: {error}");
        }
    }

    #[test]
    fn the_mode_is_hold_or_replay() {
        assert_eq!(mode(&object(serde_json::json!({"mode": "hold"}))), Ok(Mode::Hold));
        assert_eq!(mode(&object(serde_json::json!({"mode": "replay"}))), Ok(Mode::Replay));
        let error = mode(&object(serde_json::json!({"mode": "pause"}))).unwrap_err();
        assert_eq!(error, "mode must be \"hold\" or \"replay\", not \"pause\"");
        assert!(mode(&object(serde_json::json!({}))).unwrap_err().contains("mode is required"));
    }
}
