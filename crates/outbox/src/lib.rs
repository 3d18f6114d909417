#![doc = include_str!("../README.md")]

pub mod inbox;
pub mod relay;
pub mod schema;

pub use relay::{Faults, Relay, RelayConfig};

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
    let ids = enqueue_many(connection, topic, std::slice::from_ref(data)).await?;
    ids.into_iter().next().ok_or(diesel::result::Error::NotFound)
}

/// Writes one event per item in a single statement (same transaction rule as [`enqueue`]).
/// Returns the event ids in the order of `items`.
pub async fn enqueue_many<T: Serialize>(
    connection: &mut AsyncPgConnection,
    topic: &Topic<T>,
    items: &[T],
) -> QueryResult<Vec<EventId>> {
    if items.is_empty() {
        return Ok(Vec::new());
    }
    let occurred_at = Utc::now();
    let mut ids = Vec::with_capacity(items.len());
    let mut rows = Vec::with_capacity(items.len());
    for data in items {
        let id = EventId::new();
        let event = Event { id, event_type: topic.event_type().to_string(), occurred_at, data };
        let payload =
            serde_json::to_value(&event).map_err(|error| diesel::result::Error::SerializationError(Box::new(error)))?;
        rows.push((
            schema::outbox::id.eq(*id.as_uuid()),
            schema::outbox::subject.eq(topic.subject()),
            schema::outbox::payload.eq(payload),
        ));
        ids.push(id);
    }
    diesel::insert_into(schema::outbox::table).values(&rows).execute(connection).await?;
    Ok(ids)
}
