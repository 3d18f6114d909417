//! What the broker answered for each order of a participation.

use super::schema::order_snapshots;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use domain::ParticipationId;
use rust_decimal::Decimal;

/// One order's snapshot.
#[derive(Insertable, Queryable, Debug, Clone, PartialEq)]
#[diesel(table_name = order_snapshots)]
pub struct Snapshot {
    /// The participation.
    pub participation_id: ParticipationId,
    /// The broker's order id.
    pub order_id: String,
    /// The parent (true) or a child order.
    pub is_parent: bool,
    /// Our status word.
    pub status: String,
    /// The broker's status word.
    pub broker_status: String,
    /// Ordered quantity.
    pub quantity: Decimal,
    /// Executed quantity.
    pub filled_quantity: Decimal,
    /// Average execution price.
    pub avg_fill_price: Option<Decimal>,
    /// The broker's order object as received.
    pub raw: serde_json::Value,
    /// When the broker answered.
    pub fetched_at: DateTime<Utc>,
}

/// Rows per statement at most: 10 bind parameters each, far below Postgres's 65,535.
pub const CHUNK_ROWS: usize = 500;

/// The broker JSON per statement at most, so that one statement stays a few MiB however
/// large the orders (multi-leg orders carry every leg).
pub const CHUNK_BYTES: usize = 4 << 20;

/// Stores snapshots, replacing an earlier fetch of the same orders, in statements of at most
/// [`CHUNK_ROWS`] rows and about [`CHUNK_BYTES`] of broker JSON. Call it inside the outcome's
/// transaction: the chunks commit together.
pub async fn upsert(connection: &mut AsyncPgConnection, snapshots: &[Snapshot]) -> QueryResult<()> {
    for chunk in chunks(snapshots) {
        upsert_chunk(connection, chunk).await?;
    }
    Ok(())
}

/// Splits `snapshots` into runs of at most [`CHUNK_ROWS`] rows and (one large row aside) at
/// most [`CHUNK_BYTES`] of raw JSON.
fn chunks(snapshots: &[Snapshot]) -> Vec<&[Snapshot]> {
    let mut chunks = Vec::new();
    let (mut start, mut bytes) = (0, 0);
    for (index, row) in snapshots.iter().enumerate() {
        let size = json_size(&row.raw);
        if index > start && (index - start == CHUNK_ROWS || bytes + size > CHUNK_BYTES) {
            chunks.push(&snapshots[start..index]);
            (start, bytes) = (index, 0);
        }
        bytes += size;
    }
    if start < snapshots.len() {
        chunks.push(&snapshots[start..]);
    }
    chunks
}

/// The length of `value` as JSON text, without building the text.
fn json_size(value: &serde_json::Value) -> usize {
    struct Count(usize);
    impl std::io::Write for Count {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0 += bytes.len();
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut count = Count(0);
    // Writing to a counter cannot fail.
    let _ = serde_json::to_writer(&mut count, value);
    count.0
}

async fn upsert_chunk(connection: &mut AsyncPgConnection, snapshots: &[Snapshot]) -> QueryResult<()> {
    use diesel::upsert::excluded;
    diesel::insert_into(order_snapshots::table)
        .values(snapshots)
        .on_conflict((order_snapshots::participation_id, order_snapshots::order_id))
        .do_update()
        .set((
            order_snapshots::is_parent.eq(excluded(order_snapshots::is_parent)),
            order_snapshots::status.eq(excluded(order_snapshots::status)),
            order_snapshots::broker_status.eq(excluded(order_snapshots::broker_status)),
            order_snapshots::quantity.eq(excluded(order_snapshots::quantity)),
            order_snapshots::filled_quantity.eq(excluded(order_snapshots::filled_quantity)),
            order_snapshots::avg_fill_price.eq(excluded(order_snapshots::avg_fill_price)),
            order_snapshots::raw.eq(excluded(order_snapshots::raw)),
            order_snapshots::fetched_at.eq(excluded(order_snapshots::fetched_at)),
        ))
        .execute(connection)
        .await?;
    Ok(())
}

/// A participation's snapshots, parent first.
pub async fn of(connection: &mut AsyncPgConnection, participation: ParticipationId) -> QueryResult<Vec<Snapshot>> {
    order_snapshots::table
        .filter(order_snapshots::participation_id.eq(participation))
        .order((order_snapshots::is_parent.desc(), order_snapshots::order_id))
        .load(connection)
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snapshot(order: usize, raw_bytes: usize) -> Snapshot {
        Snapshot {
            participation_id: ParticipationId::from_uuid(uuid::Uuid::nil()),
            order_id: order.to_string(),
            is_parent: order == 0,
            status: "filled".into(),
            broker_status: "filled".into(),
            quantity: Decimal::ONE,
            filled_quantity: Decimal::ONE,
            avg_fill_price: None,
            // A JSON string of `raw_bytes - 2` characters is `raw_bytes` long as JSON.
            raw: serde_json::Value::String("x".repeat(raw_bytes - 2)),
            fetched_at: chrono::DateTime::UNIX_EPOCH,
        }
    }

    #[test]
    fn chunks_hold_at_most_the_row_and_byte_bounds_and_lose_nothing() {
        let rows: Vec<Snapshot> = (0..1_201).map(|n| snapshot(n, 10)).collect();
        let sizes: Vec<usize> = chunks(&rows).iter().map(|chunk| chunk.len()).collect();
        assert_eq!(sizes, [500, 500, 201]);

        let large: Vec<Snapshot> = (0..5).map(|n| snapshot(n, CHUNK_BYTES / 2)).collect();
        let sizes: Vec<usize> = chunks(&large).iter().map(|chunk| chunk.len()).collect();
        assert_eq!(sizes, [2, 2, 1]);

        let huge = vec![snapshot(0, CHUNK_BYTES * 2), snapshot(1, 10)];
        let sizes: Vec<usize> = chunks(&huge).iter().map(|chunk| chunk.len()).collect();
        assert_eq!(sizes, [1, 1], "a row larger than the bound goes alone");
        assert!(chunks(&[]).is_empty());
    }
}
