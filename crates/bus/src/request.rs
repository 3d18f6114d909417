//! Typed request/reply with a per-call timeout.

use crate::error::{Reply, RequestError};
use crate::subjects::Endpoint;
use async_nats::client::RequestErrorKind;
use serde::{Serialize, de::DeserializeOwned};
use std::time::Duration;

/// Sends `request` to `endpoint` and waits at most `timeout` for the reply.
///
/// No responders and timeouts come back as their own [`RequestError`] variants at once (NATS
/// tells the requester when nobody subscribes), so a caller never hangs on a dead service.
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
    let subject = endpoint.subject();
    let codec_error =
        |error: serde_json::Error| RequestError::Codec { subject: subject.to_string(), reason: error.to_string() };
    let payload = serde_json::to_vec(request).map_err(codec_error)?;
    let outgoing = async_nats::Request::new().payload(payload.into()).timeout(Some(timeout));
    let message = client.send_request(subject.to_string(), outgoing).await.map_err(|error| match error.kind() {
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
    })?;
    let reply: Reply<Resp> = serde_json::from_slice(&message.payload).map_err(codec_error)?;
    Result::from(reply).map_err(RequestError::Rejected)
}
