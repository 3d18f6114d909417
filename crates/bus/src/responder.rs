//! Serving an [`Endpoint`]: a queue-group subscription whose messages are decoded, handed to a
//! handler and answered with a [`Reply`].
//!
//! ```text
//!  NATS ──► queue_subscribe(subject, group) ──► one task per message ──► handler ──► reply
//!                  ▲                                     │
//!   shutdown ──► drain (no new messages) ─── wait for in-flight tasks ─┘
//! ```

use crate::error::{BusError, Reply};
use crate::subjects::Endpoint;
use futures::StreamExt;
use serde::{Serialize, de::DeserializeOwned};
use std::future::Future;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::{Instrument, debug, info_span, warn};

/// Answers requests on `endpoint` until `shutdown` fires, then drains the subscription and
/// waits for the requests in flight.
///
/// The subscription joins the endpoint's queue group, so each request reaches exactly one
/// replica of the service. A body that does not decode is answered with
/// [`BusError::Invalid`] without calling the handler.
pub async fn serve<Req, Resp, H, Fut>(
    client: async_nats::Client,
    endpoint: Endpoint<Req, Resp>,
    shutdown: CancellationToken,
    handler: H,
) -> Result<(), async_nats::SubscribeError>
where
    Req: DeserializeOwned + Send + 'static,
    Resp: Serialize + Send + 'static,
    H: Fn(Req) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Result<Resp, BusError>> + Send + 'static,
{
    let mut subscriber =
        client.queue_subscribe(endpoint.subject().to_string(), endpoint.queue_group().to_string()).await?;
    let in_flight = TaskTracker::new();
    let mut draining = false;
    loop {
        let message = if draining {
            subscriber.next().await
        } else {
            tokio::select! {
                message = subscriber.next() => message,
                () = shutdown.cancelled() => {
                    // Drain: the server stops sending, and what is already buffered here is
                    // still answered; the stream then ends by itself.
                    draining = true;
                    if let Err(error) = subscriber.drain().await {
                        warn!(error = %error, subject = endpoint.subject(), "drain failed; stopping at once");
                        break;
                    }
                    continue;
                }
            }
        };
        let Some(message) = message else { break };
        let Some(reply_to) = message.reply.clone() else {
            debug!(subject = endpoint.subject(), "request without a reply subject ignored");
            continue;
        };
        let client = client.clone();
        let handler = handler.clone();
        let span = info_span!("bus.request", subject = endpoint.subject());
        in_flight.spawn(
            async move {
                let reply: Reply<Resp> = match serde_json::from_slice::<Req>(&message.payload) {
                    Ok(request) => handler(request).await.into(),
                    Err(error) => Reply::Error(BusError::invalid(format!("malformed request: {error}"))),
                };
                match serde_json::to_vec(&reply).map(|body| fit_payload(&client, body)) {
                    Ok(body) => {
                        if let Err(error) = client.publish(reply_to, body.into()).await {
                            warn!(error = %error, "reply could not be sent");
                        }
                    }
                    Err(error) => warn!(error = %error, "reply could not be encoded"),
                }
            }
            .instrument(span),
        );
    }
    in_flight.close();
    in_flight.wait().await;
    Ok(())
}

/// Replaces a reply that NATS would refuse (above the server's `max_payload`) by a typed
/// refusal, so the requester gets an answer at once instead of waiting for its timeout.
fn fit_payload(client: &async_nats::Client, body: Vec<u8>) -> Vec<u8> {
    // Headroom for the protocol line and headers.
    let limit = client.server_info().max_payload.saturating_sub(4096);
    if body.len() <= limit {
        return body;
    }
    warn!(reply.bytes = body.len(), limit.bytes = limit, "reply too large for NATS; refused");
    let refusal: Reply<()> = Reply::Error(BusError::invalid(
        "The response would be too large; ask for less (a smaller limit or narrower filters)",
    ));
    serde_json::to_vec(&refusal).unwrap_or_default()
}
