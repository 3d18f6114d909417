//! `participation created` → fetch jobs. A batch of requests becomes jobs in one transaction,
//! with the inbox rows, and the new jobs come back already leased to this process so they can
//! be fetched at once without a second claim.
//!
//! A request seen before (a redelivery, or the ledger's sweep asking again) adds nothing; if
//! its job already has an outcome, that outcome is published again: the ledger asks again
//! only when it has not heard the answer, which may be what got lost.

use crate::store::jobs::{self, ClaimedJob, NewJob};
use bus::Event;
use bus::messages::ParticipationCreated;
use diesel_async::AsyncConnection;
use outbox::consumer::Delivery;
use platform::db::PgPool;
use std::time::Duration;
use tracing::{debug, info};

/// The inbox name of the fetcher's request consumer: its durable name.
pub const CONSUMER: &str = bus::consumers::FETCHER_PARTICIPATION_CREATED.durable;

/// Turns a batch of requests into jobs; returns the new ones, leased for `lease`.
pub async fn accept(pool: &PgPool, batch: Vec<Delivery>, lease: Duration) -> anyhow::Result<Vec<ClaimedJob>> {
    let events: Vec<Event<ParticipationCreated>> = batch.iter().filter_map(Delivery::event_or_drop).collect();
    if events.is_empty() {
        return Ok(Vec::new());
    }
    let mut connection = pool.get().await?;
    let (claimed, republished) = connection
        .transaction::<_, diesel::result::Error, _>(async |tx| {
            let mut new = Vec::new();
            let mut seen = Vec::new();
            for event in &events {
                if outbox::inbox::first_time(tx, CONSUMER, event.id).await? {
                    new.push(new_job(event));
                } else {
                    seen.push(event.data.participation_id);
                }
            }
            let claimed = jobs::insert_leased(tx, &new, lease).await?;
            let outcomes = jobs::outcome_events(tx, &seen).await?;
            let republished = outbox::republish(tx, &outcomes).await?;
            Ok((claimed, republished))
        })
        .await?;
    if republished > 0 {
        info!(republished, "requests asked again: their outcomes were published again");
    }
    debug!(requests = events.len(), new_jobs = claimed.len(), "participation requests accepted");
    Ok(claimed)
}

fn new_job(event: &Event<ParticipationCreated>) -> NewJob {
    let request = &event.data;
    NewJob {
        participation_id: request.participation_id,
        request_event_id: event.id,
        broker: request.broker.clone(),
        broker_account_id: request.broker_account_id,
        broker_account_number: request.broker_account_number.clone(),
        broker_order_id: request.broker_order_id.clone(),
        child_order_ids: request.child_order_ids.clone(),
        requested_at: event.occurred_at,
    }
}
