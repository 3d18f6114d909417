#![doc = include_str!("../README.md")]

pub mod consumer;
pub mod inbox;
pub mod prune;
pub mod relay;
pub mod schema;
pub mod shared_migrations;

pub use relay::{Faults, OutboxSettings, Relay, RelayConfig};

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
    let events: Vec<(EventId, &T)> = items.iter().map(|data| (EventId::new(), data)).collect();
    enqueue_with_ids(connection, topic, &events).await?;
    Ok(events.into_iter().map(|(id, _)| id).collect())
}

/// Like [`enqueue_many`], with event ids the caller chose: a row that must find its event
/// again later (to re-publish it) stores the id in the same transaction.
pub async fn enqueue_with_ids<T: Serialize>(
    connection: &mut AsyncPgConnection,
    topic: &Topic<T>,
    events: &[(EventId, &T)],
) -> QueryResult<()> {
    if events.is_empty() {
        return Ok(());
    }
    let occurred_at = Utc::now();
    let mut rows = Vec::with_capacity(events.len());
    for &(id, data) in events {
        let event = Event { id, event_type: topic.event_type().to_string(), occurred_at, data };
        let payload =
            serde_json::to_value(&event).map_err(|error| diesel::result::Error::SerializationError(Box::new(error)))?;
        rows.push((
            schema::outbox::id.eq(id),
            schema::outbox::subject.eq(topic.subject()),
            schema::outbox::payload.eq(payload),
        ));
    }
    diesel::insert_into(schema::outbox::table).values(&rows).execute(connection).await?;
    Ok(())
}

/// Publishes these events again with fresh message ids (recovery of a message lost from the
/// stream). Only rows already published are touched: an unpublished one is still on its way.
/// Returns how many rows were queued.
pub async fn republish(connection: &mut AsyncPgConnection, ids: &[EventId]) -> QueryResult<usize> {
    use schema::outbox::dsl;
    if ids.is_empty() {
        return Ok(0);
    }
    let queued = diesel::update(dsl::outbox.filter(dsl::id.eq_any(ids)).filter(dsl::published_at.is_not_null()))
        .set((
            dsl::published_at.eq(None::<chrono::DateTime<Utc>>),
            dsl::locked_until.eq(None::<chrono::DateTime<Utc>>),
            dsl::lease_token.eq(None::<i64>),
            dsl::republish_count.eq(dsl::republish_count + 1),
        ))
        .execute(connection)
        .await?;
    if queued > 0 {
        // The NOTIFY trigger fires on INSERT only: wake the relay for the updated rows too.
        diesel::sql_query("SELECT pg_notify('outbox', '')").execute(connection).await?;
    }
    Ok(queued)
}
