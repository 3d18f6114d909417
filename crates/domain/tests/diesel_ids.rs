//! Typed ids through a real Postgres: written by the query builder and by a raw bind, read
//! back as the same typed values, nullable columns included.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use diesel::prelude::*;
use diesel::sql_types;
use diesel_async::RunQueryDsl;
use domain::{BotId, EventId, TradeId};
use test_support::TestDb;

mod schema {
    diesel::table! {
        typed_rows (id) {
            id -> Uuid,
            bot_id -> Uuid,
            previous_trade_id -> Nullable<Uuid>,
        }
    }
}
use schema::typed_rows;

#[derive(Clone, Debug, PartialEq, Insertable, Queryable, Selectable)]
#[diesel(table_name = typed_rows)]
struct TypedRow {
    id: TradeId,
    bot_id: BotId,
    previous_trade_id: Option<TradeId>,
}

#[derive(QueryableByName)]
struct Echo {
    #[diesel(sql_type = sql_types::Uuid)]
    id: EventId,
}

#[tokio::test]
async fn typed_ids_round_trip_through_postgres() {
    let db = TestDb::empty("domain").await;
    let mut connection = db.connect().await;
    diesel::sql_query("CREATE TABLE typed_rows (id uuid PRIMARY KEY, bot_id uuid NOT NULL, previous_trade_id uuid)")
        .execute(&mut connection)
        .await
        .expect("create table");

    let first = TypedRow { id: TradeId::new(), bot_id: BotId::new(), previous_trade_id: None };
    let second = TypedRow { id: TradeId::new(), bot_id: first.bot_id, previous_trade_id: Some(first.id) };
    diesel::insert_into(typed_rows::table)
        .values(vec![first.clone(), second.clone()])
        .execute(&mut connection)
        .await
        .expect("insert");

    let found: Vec<TypedRow> = typed_rows::table
        .filter(typed_rows::bot_id.eq(first.bot_id))
        .order(typed_rows::id)
        .select(TypedRow::as_select())
        .load(&mut connection)
        .await
        .expect("select");
    assert_eq!(found, vec![first, second]);

    let followers: Vec<TradeId> = typed_rows::table
        .filter(typed_rows::previous_trade_id.eq(found[0].id))
        .select(typed_rows::id)
        .load(&mut connection)
        .await
        .expect("select by a nullable id");
    assert_eq!(followers, vec![found[1].id]);

    let event = EventId::new();
    let echo: Echo = diesel::sql_query("SELECT $1 AS id")
        .bind::<sql_types::Uuid, _>(event)
        .get_result(&mut connection)
        .await
        .expect("raw bind");
    assert_eq!(echo.id, event);
}
