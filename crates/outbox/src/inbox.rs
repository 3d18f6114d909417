//! Idempotent consumers: remember each applied event in the same transaction as its effect.

use crate::schema::processed_messages;
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use domain::EventId;

/// Records that `consumer` applies `event_id` now. Returns `false` when it already did: the
/// caller then skips the effect and just acknowledges the message. Call it inside the
/// transaction that applies the effect, so the record and the effect commit together.
pub async fn first_time(connection: &mut AsyncPgConnection, consumer: &str, event_id: EventId) -> QueryResult<bool> {
    let inserted = diesel::insert_into(processed_messages::table)
        .values((processed_messages::consumer.eq(consumer), processed_messages::event_id.eq(event_id)))
        .on_conflict_do_nothing()
        .execute(connection)
        .await?;
    Ok(inserted == 1)
}
