//! The simulator's answers: JSON or plain text with a status, `204`, and control bodies read
//! with a size limit.

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::header::{CONTENT_TYPE, HeaderValue};
use hyper::{Request, Response, StatusCode};

/// Control request bodies are tiny; anything bigger is refused.
const MAX_CONTROL_BODY_BYTES: usize = 64 * 1024;

/// Every answer's body.
pub(super) type Body = Full<Bytes>;

pub(super) async fn read_json<T: serde::de::DeserializeOwned>(request: Request<Incoming>) -> Result<T, Response<Body>> {
    let bytes = match Limited::new(request.into_body(), MAX_CONTROL_BODY_BYTES).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(error) => return Err(text(StatusCode::BAD_REQUEST, &format!("could not read the body: {error}"))),
    };
    serde_json::from_slice(&bytes).map_err(|error| text(StatusCode::BAD_REQUEST, &format!("invalid body: {error}")))
}

pub(super) fn json(status: StatusCode, body: String) -> Response<Body> {
    with_type(status, body, "application/json;charset=utf-8")
}

pub(super) fn text(status: StatusCode, body: &str) -> Response<Body> {
    with_type(status, body.to_string(), "text/plain;charset=utf-8")
}

fn with_type(status: StatusCode, body: String, content_type: &'static str) -> Response<Body> {
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    response.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

pub(super) fn no_content() -> Response<Body> {
    let mut response = Response::new(Full::new(Bytes::new()));
    *response.status_mut() = StatusCode::NO_CONTENT;
    response
}
