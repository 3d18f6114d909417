//! What the broker answered for each order of a participation.

use super::schema::order_snapshots;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use rust_decimal::Decimal;
use uuid::Uuid;

/// One order's snapshot.
#[derive(Insertable, Queryable, Debug, Clone, PartialEq)]
#[diesel(table_name = order_snapshots)]
pub struct Snapshot {
    /// The participation.
    pub participation_id: Uuid,
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

/// Stores the snapshots of one fetch, replacing an earlier fetch of the same orders.
pub async fn upsert(connection: &mut AsyncPgConnection, snapshots: &[Snapshot]) -> QueryResult<()> {
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
pub async fn of(connection: &mut AsyncPgConnection, participation: Uuid) -> QueryResult<Vec<Snapshot>> {
    order_snapshots::table
        .filter(order_snapshots::participation_id.eq(participation))
        .order((order_snapshots::is_parent.desc(), order_snapshots::order_id))
        .load(connection)
        .await
}
