//! Which request goes where: Tradier's order endpoint, or the `/_sim` control API that
//! tests and `just` recipes use to hold orders, script answers and require tokens.

use super::orders::get_order;
use super::responses::{Body, json, no_content, read_json, text};
use super::{ResetConnection, State, key};
use crate::order::HeldOrder;
use crate::script::Step;
use hyper::body::Incoming;
use hyper::{Method, Request, Response, StatusCode};
use serde::Deserialize;

pub(super) async fn route(request: Request<Incoming>, state: &State) -> Result<Response<Body>, ResetConnection> {
    let path = request.uri().path().to_string();
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    let method = request.method().clone();
    match (method, segments.as_slice()) {
        (Method::GET, ["v1", "accounts", account, "orders", order_id]) => {
            get_order(request.headers(), state, account, order_id).await
        }
        (Method::GET, ["_sim", "health"]) => Ok(text(StatusCode::OK, "ok")),
        (Method::POST, ["_sim", "reset"]) => {
            let mut inner = state.lock();
            inner.orders.clear();
            inner.tokens.clear();
            Ok(no_content())
        }
        (Method::PUT, ["_sim", "accounts", account, "orders", order_id]) => {
            let (account, order_id) = (account.to_string(), order_id.to_string());
            Ok(match read_json::<HeldOrder>(request).await {
                Ok(held) => {
                    state.lock().orders.entry((account, order_id)).or_default().held = Some(held);
                    no_content()
                }
                Err(response) => response,
            })
        }
        (Method::DELETE, ["_sim", "accounts", account, "orders", order_id]) => {
            if let Some(entry) = state.lock().orders.get_mut(&key(account, order_id)) {
                entry.held = None;
                entry.script.clear();
            }
            Ok(no_content())
        }
        (Method::POST, ["_sim", "accounts", account, "orders", order_id, "script"]) => {
            let (account, order_id) = (account.to_string(), order_id.to_string());
            Ok(match read_json::<Vec<Step>>(request).await {
                Ok(steps) => {
                    state.lock().orders.entry((account, order_id)).or_default().script = steps.into();
                    no_content()
                }
                Err(response) => response,
            })
        }
        (Method::GET, ["_sim", "accounts", account, "orders", order_id, "requests"]) => {
            let requests = state.lock().orders.get(&key(account, order_id)).map_or(0, |entry| entry.requests);
            Ok(json(StatusCode::OK, serde_json::json!({ "requests": requests }).to_string()))
        }
        (Method::PUT, ["_sim", "accounts", account, "token"]) => {
            #[derive(Deserialize)]
            struct TokenBody {
                token: String,
            }
            let account = account.to_string();
            Ok(match read_json::<TokenBody>(request).await {
                Ok(body) => {
                    state.lock().tokens.insert(account, body.token);
                    no_content()
                }
                Err(response) => response,
            })
        }
        (Method::DELETE, ["_sim", "accounts", account, "token"]) => {
            state.lock().tokens.remove(*account);
            Ok(no_content())
        }
        _ => Ok(text(StatusCode::NOT_FOUND, "Not Found")),
    }
}
