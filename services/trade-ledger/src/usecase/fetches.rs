//! The ledger's side of the order-fetch path: apply the fetcher's outcomes to participations,
//! and re-request the ones whose request (or answer) was lost.
//!
//! ```text
//!  participation tx ─► outbox: participation created ─► fetcher ─► order fetched / failed
//!        ▲                                                              │
//!        └── sweep: still pending_fetch after its backoff? ─► re-publish (fresh Nats-Msg-Id)
//!                   still pending_fetch after `give_up_after_secs`? ─► fetch_failed
//!                                                                      (fetch_timed_out)
//! ```
//!
//! The fetcher dedupes a re-published request by event id; if it already has the answer it
//! publishes the answer again, so a lost answer is recovered by the same sweep. Each
//! participation is asked again after `after_secs`, then twice as long after each request, at
//! most `max_backoff_secs` apart, so a fetcher that is down is not flooded; and the sweep gives
//! up once the participation has waited `give_up_after_secs`, so nothing is asked for forever.
//! An answer that comes after all still applies (its revision is newer).

use crate::settings::FetchSweepSettings;
use crate::store::participations::{self, FetchedFields, RequestBackoff};
use bus::Subjects;
use bus::messages::fetch::{FetchedOrder, OrderFetchFailed, OrderFetched};
use diesel_async::{AsyncConnection, AsyncPgConnection};
use outbox::consumer::Delivery;
use platform::db::PgPool;
use serde_json::json;
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, warn};

/// The inbox name of the ledger's fetch-outcome consumer: its durable name.
pub const CONSUMER: &str = bus::consumers::LEDGER_FETCH_OUTCOMES.durable;

/// One decoded outcome.
enum Outcome {
    Fetched(bus::Event<OrderFetched>),
    Failed(bus::Event<OrderFetchFailed>),
}

fn decode(subjects: &Subjects, delivery: &Delivery) -> Option<Outcome> {
    if delivery.is_on(&subjects.order_fetched()) {
        delivery.event_or_drop().map(Outcome::Fetched)
    } else if delivery.is_on(&subjects.order_fetch_failed()) {
        delivery.event_or_drop().map(Outcome::Failed)
    } else {
        debug!(subject = %delivery.subject, "not a fetch outcome; skipped");
        None
    }
}

/// Applies a batch of outcomes in one transaction, each at most once (inbox) and only when
/// newer than what the participation holds.
pub async fn apply(pool: &PgPool, subjects: &Subjects, batch: Vec<Delivery>) -> anyhow::Result<()> {
    let outcomes: Vec<Outcome> = batch.iter().filter_map(|delivery| decode(subjects, delivery)).collect();
    if outcomes.is_empty() {
        return Ok(());
    }
    let mut connection = pool.get().await?;
    connection
        .transaction::<_, diesel::result::Error, _>(async |tx| {
            for outcome in &outcomes {
                apply_one(tx, outcome).await?;
            }
            Ok(())
        })
        .await?;
    Ok(())
}

async fn apply_one(tx: &mut AsyncPgConnection, outcome: &Outcome) -> diesel::QueryResult<()> {
    let (event_id, participation_id, revision, fields) = match outcome {
        Outcome::Fetched(event) => (event.id, event.data.participation_id, event.data.revision, fetched(&event.data)),
        Outcome::Failed(event) => (event.id, event.data.participation_id, event.data.revision, failed(&event.data)),
    };
    if !outbox::inbox::first_time(tx, CONSUMER, event_id).await? {
        return Ok(());
    }
    let changed = participations::apply_fetch_outcome(tx, participation_id, revision, fields).await?;
    debug!(participation.id = %participation_id, revision, changed, "fetch outcome applied");
    Ok(())
}

fn fetched(event: &OrderFetched) -> FetchedFields {
    FetchedFields {
        fetch_status: "fetched",
        broker_order_status: Some(event.order.status.as_str()),
        filled_quantity: Some(event.order.filled_quantity),
        avg_fill_price: event.order.avg_fill_price,
        child_orders: Some(serde_json::Value::Array(event.children.iter().map(child_view).collect())),
        fetched_at: Some(event.fetched_at),
        fetch_error_code: None,
    }
}

/// A child order as the Bot API shows it in `childOrders`.
fn child_view(order: &FetchedOrder) -> serde_json::Value {
    json!({
        "orderId": order.order_id,
        "status": order.status.as_str(),
        "quantity": order.quantity,
        "filledQuantity": order.filled_quantity,
        "avgFillPrice": order.avg_fill_price,
    })
}

fn failed(event: &OrderFetchFailed) -> FetchedFields {
    FetchedFields {
        fetch_status: "fetch_failed",
        broker_order_status: None,
        filled_quantity: None,
        avg_fill_price: None,
        child_orders: None,
        fetched_at: None,
        // Only the code is kept: clients see its fixed message, never the fetcher's detail.
        fetch_error_code: Some(event.code.as_str()),
    }
}

/// What one sweep round did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SweepReport {
    /// Participations asked for again.
    pub republished: usize,
    /// Participations given up on (`fetch_failed`, `fetch_timed_out`).
    pub timed_out: usize,
}

/// One sweep round, in one transaction: gives up on participations that waited longer than
/// `settings.give_up_after_secs`, then re-publishes the `participation created` events of
/// those whose backoff has passed.
pub async fn sweep_once(pool: &PgPool, settings: &FetchSweepSettings) -> anyhow::Result<SweepReport> {
    let backoff = RequestBackoff { first: settings.after(), cap: settings.max_backoff() };
    let mut connection = pool.get().await?;
    let (timed_out, republished) = connection
        .transaction::<_, diesel::result::Error, _>(async |tx| {
            let timed_out = participations::time_out_fetches(tx, settings.give_up_after(), settings.batch_size).await?;
            let overdue = participations::claim_overdue_fetches(tx, backoff, settings.batch_size).await?;
            let republished = outbox::republish(tx, &overdue).await?;
            Ok((timed_out, republished))
        })
        .await?;
    for participation in &timed_out {
        warn!(participation.id = %participation, "no broker order after the sweep's time budget; fetch_timed_out");
    }
    if republished > 0 {
        info!(republished, "overdue participations asked for their broker orders again");
    }
    Ok(SweepReport { republished, timed_out: timed_out.len() })
}

/// Runs [`sweep_once`] every `settings.interval_secs` until `shutdown`.
pub async fn sweep(pool: PgPool, settings: FetchSweepSettings, shutdown: CancellationToken) -> anyhow::Result<()> {
    let mut interval = tokio::time::interval(settings.interval());
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            () = shutdown.cancelled() => return Ok(()),
            _ = interval.tick() => {}
        }
        if let Err(error) = sweep_once(&pool, &settings).await {
            warn!(error = format!("{error:#}"), "fetch sweep failed; retrying next round");
        }
    }
}
