//! Typed request/reply with a per-call timeout. Every request carries its deadline in the
//! `Tb-Deadline` header (see [`crate::deadline`]), so the responder can tell when the
//! requester stops waiting and roll back rather than commit what nobody will hear about.

use crate::deadline::{DEADLINE_HEADER, Deadline};
use crate::error::{Reply, RequestError};
use crate::subjects::Endpoint;
use async_nats::client::RequestErrorKind;
use serde::{Serialize, de::DeserializeOwned};
use serde_json::value::RawValue;
use std::time::Duration;

/// Sends `request` to `endpoint` and waits at most `timeout` for the reply.
///
/// No responders come back at once as [`RequestError::NoResponders`] (NATS tells the
/// requester when nobody subscribes), so a caller never hangs on a dead service; a responder
/// that took the request but did not answer within `timeout` gives [`RequestError::Timeout`]:
/// it may have acted, unless it honoured the `Tb-Deadline` sent along.
pub async fn request<Req, Resp>(
    client: &async_nats::Client,
    endpoint: &Endpoint<Req, Resp>,
    request: &Req,
    timeout: Duration,
) -> Result<Resp, RequestError>
where
    Req: Serialize,
    Resp: DeserializeOwned,
{
    let message = send(client, endpoint.subject(), request, timeout).await?;
    let codec_error = |error: serde_json::Error| RequestError::Codec {
        subject: endpoint.subject().to_string(),
        reason: error.to_string(),
    };
    let reply: Reply<Resp> = serde_json::from_slice(&message.payload).map_err(codec_error)?;
    Result::from(reply).map_err(RequestError::Rejected)
}

/// Like [`request`], but returns the reply value as raw JSON text instead of decoding it: for
/// a caller that only forwards the reply (the gateway's HTTP bodies), which saves a decode and
/// an encode and keeps numbers and opaque objects byte for byte.
pub async fn request_raw<Req, Resp>(
    client: &async_nats::Client,
    endpoint: &Endpoint<Req, Resp>,
    request: &Req,
    timeout: Duration,
) -> Result<Box<RawValue>, RequestError>
where
    Req: Serialize,
{
    let message = send(client, endpoint.subject(), request, timeout).await?;
    let reply: Reply<Box<RawValue>> = serde_json::from_slice(&message.payload)
        .map_err(|error| RequestError::Codec { subject: endpoint.subject().to_string(), reason: error.to_string() })?;
    Result::from(reply).map_err(RequestError::Rejected)
}

async fn send<Req: Serialize>(
    client: &async_nats::Client,
    subject: &str,
    request: &Req,
    timeout: Duration,
) -> Result<async_nats::Message, RequestError> {
    let payload = serde_json::to_vec(request)
        .map_err(|error| RequestError::Codec { subject: subject.to_string(), reason: error.to_string() })?;
    let mut headers = async_nats::HeaderMap::new();
    headers.insert(DEADLINE_HEADER, Deadline::for_request(timeout).header_value());
    let outgoing = async_nats::Request::new().payload(payload.into()).headers(headers).timeout(Some(timeout));
    client.send_request(subject.to_string(), outgoing).await.map_err(|error| match error.kind() {
        RequestErrorKind::NoResponders => RequestError::NoResponders { subject: subject.to_string() },
        RequestErrorKind::TimedOut => RequestError::Timeout {
            subject: subject.to_string(),
            timeout_ms: u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX),
        },
        // A subject or payload the server refuses is a defect of the caller, not an outage.
        RequestErrorKind::InvalidSubject | RequestErrorKind::MaxPayloadExceeded => {
            RequestError::Codec { subject: subject.to_string(), reason: error.to_string() }
        }
        RequestErrorKind::Other => RequestError::Transport { subject: subject.to_string(), reason: error.to_string() },
    })
}
