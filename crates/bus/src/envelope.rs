//! The event envelope and the NATS headers we use.

use chrono::{DateTime, Utc};
use domain::EventId;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The JetStream de-duplication header.
pub const MSG_ID_HEADER: &str = "Nats-Msg-Id";
/// W3C trace context, carried from the HTTP request through every hop.
pub const TRACEPARENT_HEADER: &str = "traceparent";

/// An event as it travels on a stream. The `id` is the idempotency key of every consumer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Event<T> {
    /// Unique per event; the `Nats-Msg-Id` of its first publish.
    pub id: EventId,
    /// The topic's event type, e.g. `participation_created.v1`.
    #[serde(rename = "type")]
    pub event_type: String,
    /// When the producer committed the change the event reports.
    pub occurred_at: DateTime<Utc>,
    /// The payload.
    pub data: T,
}

/// The `Nats-Msg-Id` of a publish: the event id for the first attempt, `<id>.<attempt>` for a
/// deliberate re-publish from Postgres, which the stream's duplicate window must not drop.
pub fn message_id(event_id: EventId, republish_attempt: u32) -> String {
    if republish_attempt == 0 { event_id.to_string() } else { format!("{event_id}.{republish_attempt}") }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn republishes_get_fresh_message_ids() {
        let id = EventId::new();
        assert_eq!(message_id(id, 0), id.to_string());
        assert_eq!(message_id(id, 2), format!("{id}.2"));
    }
}
