#![doc = include_str!("../README.md")]

pub mod inbox;
pub mod relay;
pub mod schema;

pub use relay::{Relay, RelayConfig};

use bus::{Event, Topic};
use chrono::Utc;
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use domain::EventId;
use serde::Serialize;

/// Writes an event to the outbox. Call it inside the transaction that makes the change the
/// event reports: the event exists if and only if the change committed.
pub async fn enqueue<T: Serialize>(
    connection: &mut AsyncPgConnection,
    topic: &Topic<T>,
    data: &T,
) -> QueryResult<EventId> {
    let id = EventId::new();
    let event = Event { id, event_type: topic.event_type().to_string(), occurred_at: Utc::now(), data };
    let payload =
        serde_json::to_value(&event).map_err(|error| diesel::result::Error::SerializationError(Box::new(error)))?;
    diesel::insert_into(schema::outbox::table)
        .values((
            schema::outbox::id.eq(*id.as_uuid()),
            schema::outbox::subject.eq(topic.subject()),
            schema::outbox::payload.eq(payload),
        ))
        .execute(connection)
        .await?;
    Ok(id)
}
