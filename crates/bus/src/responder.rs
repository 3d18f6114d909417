//! Serving an [`Endpoint`]: a queue-group subscription whose messages are decoded, handed to a
//! handler and answered with a [`Reply`].
//!
//! ```text
//!  NATS ──► queue_subscribe(subject, group) ──► one task per message ──► handler ──► reply
//!                  ▲                          (deadline passed?       (in deadline::scope;
//!                  │                           dropped unread)         no reply once passed)
//!   shutdown ──► drain (no new messages) ─── wait for in-flight tasks ─┘
//! ```
//!
//! A request's `Tb-Deadline` header (see [`crate::deadline`]) is the moment its requester
//! stops waiting. A request that arrives after it is not handled at all; otherwise the handler
//! runs with the deadline as [`crate::deadline::current`], so that its writes can check it
//! right before they commit; a reply that would come after it is not sent (the requester has
//! already answered its own caller).

use crate::deadline::{self, Deadline};
use crate::error::{BusError, Reply};
use crate::subjects::Endpoint;
use futures::StreamExt;
use serde::{Serialize, de::DeserializeOwned};
use std::future::Future;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::{Instrument, debug, info, info_span, warn};

/// Answers requests on `endpoint` until `shutdown` fires, then drains the subscription and
/// waits for the requests in flight.
///
/// The subscription joins the endpoint's queue group, so each request reaches exactly one
/// replica of the service. A body that does not decode, or a malformed `Tb-Deadline` header,
/// is answered with [`BusError::Invalid`] without calling the handler; a request whose
/// deadline has passed is dropped without calling it.
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
        if !is_inbox(&reply_to) {
            // Replies go to a requester's inbox and nowhere else: a request naming another
            // reply subject (`$JS.API.…`, an event subject) would make this service publish
            // there on the sender's behalf. The bus's permissions refuse it too.
            warn!(subject = endpoint.subject(), "request whose reply subject is not an inbox; ignored");
            continue;
        }
        let deadline = Deadline::from_headers(message.headers.as_ref());
        if let Ok(Some(passed)) = deadline
            && passed.has_passed()
        {
            // Handling it would only do work nobody waits for, and a write could land after
            // the requester reported a timeout.
            warn!(
                subject = endpoint.subject(),
                overrun_ms = passed.overrun().as_millis(),
                "request arrived after its deadline; dropped"
            );
            continue;
        }
        let client = client.clone();
        let handler = handler.clone();
        let span = info_span!("bus.request", subject = endpoint.subject());
        in_flight.spawn(
            async move {
                let reply: Reply<Resp> = match (deadline, serde_json::from_slice::<Req>(&message.payload)) {
                    (Err(error), _) => Reply::Error(BusError::invalid(error.to_string())),
                    (Ok(_), Err(error)) => Reply::Error(BusError::invalid(format!("malformed request: {error}"))),
                    (Ok(deadline), Ok(request)) => {
                        let reply = deadline::scope(deadline, handler(request)).await.into();
                        if let Some(passed) = deadline.filter(|deadline| deadline.has_passed()) {
                            // The requester has answered its caller already; a reply now
                            // would only land in an inbox nobody reads.
                            info!(
                                overrun_ms = passed.overrun().as_millis(),
                                "deadline passed while handling; reply dropped"
                            );
                            return;
                        }
                        reply
                    }
                };
                send_reply(&client, reply_to, reply).await;
            }
            .instrument(span),
        );
    }
    in_flight.close();
    in_flight.wait().await;
    Ok(())
}

/// Whether `subject` is a requester's inbox (`_INBOX.…`, the default and every per-user
/// prefix of [`crate::inbox_prefix`]).
fn is_inbox(subject: &str) -> bool {
    subject.starts_with("_INBOX.")
}

async fn send_reply<Resp: Serialize>(client: &async_nats::Client, reply_to: async_nats::Subject, reply: Reply<Resp>) {
    match serde_json::to_vec(&reply).map(|body| fit_payload(client, body)) {
        Ok(body) => {
            if let Err(error) = client.publish(reply_to, body.into()).await {
                warn!(error = %error, "reply could not be sent");
            }
        }
        Err(error) => warn!(error = %error, "reply could not be encoded"),
    }
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;
    use crate::deadline::DEADLINE_HEADER;
    use crate::messages::{PingReply, PingRequest};
    use crate::subjects::Subjects;
    use async_nats::client::RequestErrorKind;
    use domain::ServiceName;
    use std::sync::{Arc, Mutex};
    use std::time::Duration;

    /// What the handler saw: the deadline of each request it was given.
    type Seen = Arc<Mutex<Vec<Option<Deadline>>>>;

    async fn client() -> async_nats::Client {
        let url = std::env::var("TEST_NATS_URL").unwrap_or_else(|_| "nats://127.0.0.1:4222".to_string());
        async_nats::connect(url).await.expect("the test NATS server")
    }

    /// Serves `endpoint` with a handler that records its deadline, then waits `delay`.
    async fn responder(
        client: &async_nats::Client,
        endpoint: Endpoint<PingRequest, PingReply>,
        delay: Duration,
        shutdown: &CancellationToken,
    ) -> Seen {
        let seen = Seen::default();
        let subject = endpoint.subject().to_string();
        let recorder = Arc::clone(&seen);
        tokio::spawn(serve(client.clone(), endpoint, shutdown.clone(), move |_request: PingRequest| {
            let recorder = Arc::clone(&recorder);
            async move {
                recorder.lock().unwrap().push(deadline::current());
                tokio::time::sleep(delay).await;
                Ok(PingReply { service: ServiceName::TradeLedger, instance: "test".into(), version: "0".into() })
            }
        }));
        // Subscribed once a request without a deadline is answered.
        for _ in 0..100 {
            if ask(client, &subject, None, delay + Duration::from_millis(500)).await.is_ok() {
                seen.lock().unwrap().clear();
                return seen;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("the responder on {subject} never answered");
    }

    async fn ask(
        client: &async_nats::Client,
        subject: &str,
        deadline: Option<&str>,
        timeout: Duration,
    ) -> Result<async_nats::Message, async_nats::RequestError> {
        let mut headers = async_nats::HeaderMap::new();
        if let Some(deadline) = deadline {
            headers.insert(DEADLINE_HEADER, deadline);
        }
        let request = async_nats::Request::new().payload("{}".into()).headers(headers).timeout(Some(timeout));
        client.send_request(subject.to_string(), request).await
    }

    fn subjects() -> Subjects {
        Subjects::new(format!("t{}", &uuid::Uuid::new_v4().simple().to_string()[..12])).unwrap()
    }

    #[tokio::test]
    async fn a_request_whose_deadline_passed_is_not_handled() {
        let (client, subjects, shutdown) = (client().await, subjects(), CancellationToken::new());
        let endpoint = subjects.ping(ServiceName::TradeLedger);
        let subject = endpoint.subject().to_string();
        let seen = responder(&client, endpoint, Duration::ZERO, &shutdown).await;

        let in_time = Deadline::after(Duration::from_secs(30));
        let reply = ask(&client, &subject, Some(&in_time.header_value()), Duration::from_secs(5)).await.unwrap();
        assert!(String::from_utf8_lossy(&reply.payload).starts_with(r#"{"ok""#));
        assert_eq!(*seen.lock().unwrap(), vec![Some(in_time)], "the handler sees the requester's deadline");

        let passed = Deadline::passed(Duration::from_millis(1));
        let error = ask(&client, &subject, Some(&passed.header_value()), Duration::from_millis(300)).await.unwrap_err();
        assert_eq!(error.kind(), RequestErrorKind::TimedOut, "dropped without a reply: {error}");
        assert_eq!(seen.lock().unwrap().len(), 1, "the late request never reached the handler");

        let reply = ask(&client, &subject, Some("soon"), Duration::from_secs(5)).await.unwrap();
        let body = String::from_utf8_lossy(&reply.payload).to_string();
        assert!(body.contains(r#""kind":"invalid""#) && body.contains(DEADLINE_HEADER), "{body}");
        assert_eq!(seen.lock().unwrap().len(), 1, "a malformed deadline is refused before the handler");
        shutdown.cancel();
    }

    #[tokio::test]
    async fn a_request_whose_reply_subject_is_not_an_inbox_is_not_handled() {
        let (client, subjects, shutdown) = (client().await, subjects(), CancellationToken::new());
        let endpoint = subjects.ping(ServiceName::LiveSessionRunner);
        let subject = endpoint.subject().to_string();
        let seen = responder(&client, endpoint, Duration::ZERO, &shutdown).await;
        // Someone asks the service to "reply" onto another subject (e.g. a JetStream API).
        let target = format!("{}.evt.ledger.participation_created.v1", subjects.prefix());
        let mut watched = client.subscribe(target.clone()).await.unwrap();
        client.publish_with_reply(subject.clone(), target, "{}".into()).await.unwrap();
        client.flush().await.unwrap();
        let nothing = tokio::time::timeout(Duration::from_millis(300), watched.next()).await;
        assert!(nothing.is_err(), "the service published onto a subject that is not an inbox");
        assert!(seen.lock().unwrap().is_empty(), "the handler never ran");
        shutdown.cancel();
    }

    #[tokio::test]
    async fn no_reply_is_sent_once_the_deadline_passed_during_the_work() {
        let (client, subjects, shutdown) = (client().await, subjects(), CancellationToken::new());
        let endpoint = subjects.ping(ServiceName::BacktestExecutor);
        let subject = endpoint.subject().to_string();
        let seen = responder(&client, endpoint, Duration::from_millis(300), &shutdown).await;

        // The requester waits longer than the deadline it sends: only the responder's silence
        // can make it time out.
        let deadline = Deadline::after(Duration::from_millis(100));
        let error =
            ask(&client, &subject, Some(&deadline.header_value()), Duration::from_millis(1_500)).await.unwrap_err();
        assert_eq!(error.kind(), RequestErrorKind::TimedOut, "{error}");
        assert_eq!(*seen.lock().unwrap(), vec![Some(deadline)], "the handler ran");
        shutdown.cancel();
    }
}
