//! Rows the relay gave up on: listed by `admin outbox-dead`, queued again by
//! `admin outbox-retry`.

use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Bool, Integer, Nullable, Text, Uuid as SqlUuid};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use domain::EventId;
use serde::Serialize;

/// A row parked as dead, as `admin outbox-dead` lists it.
#[derive(QueryableByName, Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DeadRow {
    /// The event id.
    #[diesel(sql_type = SqlUuid)]
    pub id: EventId,
    /// Its place in publish order.
    #[diesel(sql_type = BigInt)]
    pub seq: i64,
    /// Where it was to be published.
    #[diesel(sql_type = Text)]
    pub subject: String,
    /// Claims it had before it was parked.
    #[diesel(sql_type = Integer)]
    pub attempts: i32,
    /// The last failure (JetStream's answer, or that the relay stopped while holding it).
    #[diesel(sql_type = Nullable<Text>)]
    pub last_error: Option<String>,
    /// When it was written.
    #[diesel(sql_type = diesel::sql_types::Timestamptz)]
    pub created_at: chrono::DateTime<chrono::Utc>,
    /// When it was parked.
    #[diesel(sql_type = diesel::sql_types::Timestamptz)]
    pub dead_at: chrono::DateTime<chrono::Utc>,
}

/// Every dead row, in publish order.
pub async fn dead_rows(connection: &mut AsyncPgConnection) -> QueryResult<Vec<DeadRow>> {
    diesel::sql_query(
        "SELECT id, seq, subject, attempts, last_error, created_at, dead_at FROM outbox \
         WHERE dead_at IS NOT NULL ORDER BY seq",
    )
    .load(connection)
    .await
}

/// Which dead rows [`retry_dead`] queues again.
#[derive(Clone, Copy, Debug)]
pub enum Retry<'a> {
    /// These rows (ids that are not dead are left alone).
    Rows(&'a [EventId]),
    /// Every dead row.
    All,
}

/// Queues dead rows again with a fresh allowance of attempts and wakes the relay. Their
/// message id is unchanged: a row that reached the stream before it was parked (the ack was
/// lost) is dropped there as a duplicate. Returns the ids queued.
pub async fn retry_dead(connection: &mut AsyncPgConnection, which: Retry<'_>) -> QueryResult<Vec<EventId>> {
    #[derive(QueryableByName)]
    struct Queued {
        #[diesel(sql_type = SqlUuid)]
        id: EventId,
    }
    let (ids, all) = match which {
        Retry::Rows(ids) => (ids.to_vec(), false),
        Retry::All => (Vec::new(), true),
    };
    let queued: Vec<Queued> = diesel::sql_query(
        "UPDATE outbox SET dead_at = NULL, attempts = 0, locked_until = NULL, lease_token = NULL \
         WHERE dead_at IS NOT NULL AND ($2 OR id = ANY($1)) RETURNING id",
    )
    .bind::<Array<SqlUuid>, _>(ids)
    .bind::<Bool, _>(all)
    .load(connection)
    .await?;
    if !queued.is_empty() {
        // The NOTIFY trigger fires on INSERT only: wake the relay for the updated rows too.
        diesel::sql_query("SELECT pg_notify('outbox', '')").execute(connection).await?;
    }
    Ok(queued.into_iter().map(|row| row.id).collect())
}

/// `admin outbox-dead`: every dead row → `{"dead": [{id, seq, subject, attempts, lastError,
/// createdAt, deadAt}]}`.
pub async fn admin_dead(connection: &mut AsyncPgConnection) -> anyhow::Result<serde_json::Value> {
    Ok(serde_json::json!({ "dead": dead_rows(connection).await? }))
}

/// `admin outbox-retry`: queues `ids` (or every dead row when `all`) again → `{"requeued":
/// [id]}`. Naming a row that is not dead fails and queues nothing.
pub async fn admin_retry(
    connection: &mut AsyncPgConnection,
    ids: &[EventId],
    all: bool,
) -> anyhow::Result<serde_json::Value> {
    let which = if all { Retry::All } else { Retry::Rows(ids) };
    let requeued = connection
        .transaction::<_, anyhow::Error, _>(async |tx| {
            let requeued = retry_dead(tx, which).await?;
            if let Some(missing) = ids.iter().find(|id| !requeued.contains(id)) {
                anyhow::bail!("outbox row {missing} is not dead (unknown, waiting or published)");
            }
            Ok(requeued)
        })
        .await?;
    Ok(serde_json::json!({ "requeued": requeued }))
}
