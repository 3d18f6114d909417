//! Leases against real Postgres: a table of jobs made for the test, claimed by several
//! claimers at once, taken over after expiry, and fenced.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use diesel::sql_types::{Integer, Text};
use diesel_async::{AsyncPgConnection, RunQueryDsl, SimpleAsyncConnection};
use lease::{Claim, Claiming, LeaseTable, LeaseTimer, Token};
use platform::db::PgPool;
use std::collections::HashSet;
use std::time::Duration;
use test_support::{TestDb, eventually};
use uuid::Uuid;

static JOBS: LeaseTable = LeaseTable {
    table: "jobs",
    id: "id",
    token: "lease_token",
    tokens: "jobs_lease_tokens",
    expiry: "lease_until",
    unfinished: "state = 'pending'",
};

const EVERY_PENDING: Claiming = Claiming { due: "TRUE", order_by: "seq", also_set: "" };

const HOUR: Duration = Duration::from_secs(3_600);

async fn database() -> TestDb {
    let db = TestDb::empty("lease").await;
    db.connect()
        .await
        .batch_execute(
            "CREATE SEQUENCE jobs_lease_tokens;
             CREATE TABLE jobs (
                 id          uuid PRIMARY KEY,
                 seq         bigserial,
                 state       text NOT NULL DEFAULT 'pending',
                 claims      integer NOT NULL DEFAULT 0,
                 note        text,
                 lease_token bigint,
                 lease_until timestamptz
             );",
        )
        .await
        .unwrap();
    db
}

async fn insert(connection: &mut AsyncPgConnection, count: usize) -> Vec<Uuid> {
    let ids: Vec<Uuid> = (0..count).map(|_| Uuid::now_v7()).collect();
    diesel::sql_query("INSERT INTO jobs (id) SELECT unnest($1::uuid[])")
        .bind::<diesel::sql_types::Array<diesel::sql_types::Uuid>, _>(&ids)
        .execute(connection)
        .await
        .unwrap();
    ids
}

/// Lets every lease on the table run out, as time would.
async fn expire_all(connection: &mut AsyncPgConnection) {
    connection.batch_execute("UPDATE jobs SET lease_until = now() - interval '1 second'").await.unwrap();
}

async fn note_of(connection: &mut AsyncPgConnection, id: Uuid) -> Option<String> {
    #[derive(diesel::QueryableByName)]
    struct Note {
        #[diesel(sql_type = diesel::sql_types::Nullable<Text>)]
        note: Option<String>,
    }
    let row: Note =
        diesel::sql_query(format!("SELECT note FROM jobs WHERE id = '{id}'")).get_result(connection).await.unwrap();
    row.note
}

/// A fenced write of the holder: `note = <text>`. Whether it applied.
async fn write(connection: &mut AsyncPgConnection, held: Claim, text: &str) -> bool {
    JOBS.fenced_update("note = $3", held).bind::<Text, _>(text.to_string()).execute(connection).await.unwrap() == 1
}

#[tokio::test(flavor = "multi_thread")]
async fn two_claimers_never_get_the_same_row() {
    let db = database().await;
    let ids = insert(&mut db.connect().await, 300).await;
    let claimers = (0..6).map(|_| {
        let url = db.url().to_string();
        tokio::spawn(async move {
            let mut connection = <AsyncPgConnection as diesel_async::AsyncConnection>::establish(&url).await.unwrap();
            let mut mine = Vec::new();
            loop {
                let claimed = JOBS.claim(&mut connection, &EVERY_PENDING, HOUR, 7).await.unwrap();
                if claimed.is_empty() {
                    return mine;
                }
                mine.extend(claimed);
            }
        })
    });
    let claims: Vec<Claim> = futures::future::join_all(claimers).await.into_iter().flat_map(Result::unwrap).collect();
    let claimed: HashSet<Uuid> = claims.iter().map(|claim| claim.id).collect();
    assert_eq!(claims.len(), ids.len(), "each row claimed exactly once");
    assert_eq!(claimed, ids.into_iter().collect::<HashSet<_>>());
    let tokens: HashSet<Token> = claims.iter().map(|claim| claim.token).collect();
    assert_eq!(tokens.len(), claims.len(), "every claim has its own token");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_claim_takes_due_unfinished_free_rows_in_order_up_to_the_limit() {
    let db = database().await;
    let mut connection = db.connect().await;
    let ids = insert(&mut connection, 5).await;
    connection.batch_execute(&format!("UPDATE jobs SET state = 'done' WHERE id = '{}'", ids[0])).await.unwrap();
    connection.batch_execute(&format!("UPDATE jobs SET claims = 9 WHERE id = '{}'", ids[1])).await.unwrap();
    // Rows with fewer than $3 claims are due; the claim counts them.
    let claiming = Claiming { due: "claims < $3", order_by: "seq", also_set: "claims = claims + 1" };

    #[derive(diesel::QueryableByName)]
    struct Row {
        #[diesel(sql_type = diesel::sql_types::Uuid)]
        id: Uuid,
        #[diesel(sql_type = Integer)]
        claims: i32,
    }
    let claim = |limit| JOBS.claim_query(&claiming, "id, claims", HOUR, limit).bind::<Integer, _>(3);
    let mut first: Vec<Row> = claim(2).load(&mut connection).await.unwrap();
    first.sort_by_key(|row| row.id);
    assert_eq!(first.iter().map(|row| (row.id, row.claims)).collect::<Vec<_>>(), [(ids[2], 1), (ids[3], 1)]);
    let rest: Vec<Row> = claim(10).load(&mut connection).await.unwrap();
    assert_eq!(rest.iter().map(|row| row.id).collect::<Vec<_>>(), [ids[4]], "held rows are not claimed again");
    assert!(claim(10).load::<Row>(&mut connection).await.unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_stale_tokens_writes_renewals_and_releases_are_refused_after_a_reclaim() {
    let db = database().await;
    let mut connection = db.connect().await;
    let [id] = insert(&mut connection, 1).await[..] else { unreachable!() };
    let [stale] = JOBS.claim(&mut connection, &EVERY_PENDING, HOUR, 1).await.unwrap()[..] else { panic!() };
    assert!(write(&mut connection, stale, "first holder").await);
    expire_all(&mut connection).await;
    let [current] = JOBS.claim(&mut connection, &EVERY_PENDING, HOUR, 1).await.unwrap()[..] else { panic!() };
    assert_eq!(current.id, id);
    assert!(current.token > stale.token);

    assert!(!write(&mut connection, stale, "late").await, "the first holder's write is fenced out");
    assert!(!JOBS.renew(&mut connection, stale, HOUR).await.unwrap());
    assert!(!JOBS.release(&mut connection, stale).await.unwrap());
    assert_eq!(note_of(&mut connection, id).await.as_deref(), Some("first holder"));

    assert!(write(&mut connection, current, "second holder").await);
    assert!(JOBS.renew(&mut connection, current, HOUR).await.unwrap());
    assert!(JOBS.release(&mut connection, current).await.unwrap());
    // Given back: the holder's token no longer matches, and the row is free at once.
    assert!(!write(&mut connection, current, "after release").await);
    assert!(!JOBS.renew(&mut connection, current, HOUR).await.unwrap());
    let again = JOBS.claim(&mut connection, &EVERY_PENDING, HOUR, 1).await.unwrap();
    assert!(again.len() == 1 && again[0].token > current.token, "{again:?}");
    // A finished row refuses even its current holder.
    connection.batch_execute("UPDATE jobs SET state = 'done'").await.unwrap();
    assert!(!write(&mut connection, again[0], "finished").await);
    assert_eq!(note_of(&mut connection, id).await.as_deref(), Some("second holder"));
}

#[tokio::test(flavor = "multi_thread")]
async fn expiry_lets_another_claimer_take_over_with_a_larger_token() {
    let db = database().await;
    let mut first = db.connect().await;
    let mut second = db.connect().await;
    insert(&mut first, 1).await;
    let short = Duration::from_millis(300);
    let [held] = JOBS.claim(&mut first, &EVERY_PENDING, short, 1).await.unwrap()[..] else { panic!() };
    assert!(JOBS.claim(&mut second, &EVERY_PENDING, HOUR, 1).await.unwrap().is_empty(), "held");
    let taken = eventually("the lease to run out", Duration::from_secs(10), || async {
        JOBS.claim(&mut db.connect().await, &EVERY_PENDING, HOUR, 1).await.unwrap().into_iter().next()
    })
    .await;
    assert_eq!(taken.id, held.id);
    assert!(taken.token > held.token, "{taken:?} after {held:?}");
    assert!(!write(&mut first, held, "late").await);
    assert!(write(&mut second, taken, "taken over").await);
}

#[tokio::test(flavor = "multi_thread")]
async fn many_held_rows_are_written_and_given_back_in_one_statement_each() {
    let db = database().await;
    let mut connection = db.connect().await;
    insert(&mut connection, 3).await;
    let held = JOBS.claim(&mut connection, &EVERY_PENDING, HOUR, 3).await.unwrap();
    expire_all(&mut connection).await;
    let [retaken] = JOBS.claim(&mut connection, &EVERY_PENDING, HOUR, 1).await.unwrap()[..] else { panic!() };
    let written = JOBS.fenced_update_many("note = 'batch'", &held).execute(&mut connection).await.unwrap();
    assert_eq!(written, 2, "the retaken row refuses its old holder");
    assert_eq!(note_of(&mut connection, retaken.id).await, None);
    let still_held: Vec<Claim> = held.iter().copied().filter(|claim| claim.id != retaken.id).collect();
    assert_eq!(JOBS.release_many(&mut connection, &held).await.unwrap(), 2);
    assert_eq!(JOBS.release_many(&mut connection, &still_held).await.unwrap(), 0, "already given back");
    let free = JOBS.claim(&mut connection, &EVERY_PENDING, HOUR, 10).await.unwrap();
    assert_eq!(free.len(), 2, "given back rows are free at once; the retaken one is still held");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_timer_keeps_a_lease_alive_and_says_when_it_is_lost() {
    let db = database().await;
    let settings = platform::settings::DatabaseSettings {
        url: db.url().to_string(),
        ..platform::settings::DatabaseSettings::local("unused")
    };
    let pool: PgPool = platform::db::pool(&settings).unwrap();
    let mut connection = db.connect().await;
    insert(&mut connection, 1).await;
    let lease = Duration::from_millis(300);
    let [held] = JOBS.claim(&mut connection, &EVERY_PENDING, lease, 1).await.unwrap()[..] else { panic!() };
    let timer = LeaseTimer::start(pool, &JOBS, held, lease);
    for _ in 0..10 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert!(JOBS.claim(&mut connection, &EVERY_PENDING, HOUR, 1).await.unwrap().is_empty(), "renewed");
    }
    assert!(!timer.lost());
    // Taken over (as after a stall): the timer's next renewal finds the lease lost.
    expire_all(&mut connection).await;
    assert_eq!(JOBS.claim(&mut connection, &EVERY_PENDING, HOUR, 1).await.unwrap().len(), 1);
    tokio::time::timeout(Duration::from_secs(5), timer.wait_lost()).await.expect("the timer saw the loss");
    assert!(timer.lost());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_row_inserted_already_claimed_is_held_by_its_writer() {
    let db = database().await;
    let mut connection = db.connect().await;
    let id = Uuid::now_v7();
    use diesel::ExpressionMethods;
    diesel::table! { jobs (id) { id -> Uuid, lease_token -> Nullable<Int8>, lease_until -> Nullable<Timestamptz> } }
    let inserted: Vec<Option<Token>> = diesel::insert_into(jobs::table)
        .values((
            jobs::id.eq(id),
            jobs::lease_token.eq(JOBS.next_token()),
            jobs::lease_until.eq(lease::expiry_after(HOUR)),
        ))
        .returning(jobs::lease_token)
        .get_results(&mut connection)
        .await
        .unwrap();
    let token = inserted[0].unwrap();
    assert!(JOBS.claim(&mut connection, &EVERY_PENDING, HOUR, 1).await.unwrap().is_empty(), "held");
    assert!(write(&mut connection, Claim { id, token }, "writer").await);
}
