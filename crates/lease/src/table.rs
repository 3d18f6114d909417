//! A leased table and the statements on it: claim, renew, release, fenced writes.

use crate::Token;
use diesel::QueryResult;
use diesel::expression::SqlLiteral;
use diesel::pg::Pg;
use diesel::query_builder::{BoxedSqlQuery, SqlQuery};
use diesel::sql_types::{Array, BigInt, Double, Nullable, Timestamptz, Uuid as SqlUuid};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use std::time::Duration;
use uuid::Uuid;

/// A table whose rows are held by lease. Every field is SQL spelled in code (identifiers and
/// one condition), never input: it is pasted into the statements.
#[derive(Clone, Copy, Debug)]
pub struct LeaseTable {
    /// The table.
    pub table: &'static str,
    /// Its key column, a `uuid`.
    pub id: &'static str,
    /// The `bigint` column holding the token of the current claim (null while nobody holds
    /// the row).
    pub token: &'static str,
    /// The sequence tokens come from.
    pub tokens: &'static str,
    /// The `timestamptz` column holding when the lease runs out. Null, or past: the row is
    /// free. A holder that ends its lease may set it to the time the row is due again.
    pub expiry: &'static str,
    /// The condition under which a row can be held at all (pending, not yet published...).
    /// Claims only take such rows, and every fenced write requires it: a row that finished
    /// or was cancelled refuses its last holder's writes.
    pub unfinished: &'static str,
}

/// What a claim takes besides a free, unfinished row, in which order, and what else it
/// writes. SQL spelled in code; parameters `$1` and `$2` are the claim's own, so a fragment's
/// parameters start at `$3`.
#[derive(Clone, Copy, Debug)]
pub struct Claiming {
    /// The row's own condition for being due (`"TRUE"` when every free row is).
    pub due: &'static str,
    /// The order rows are taken in (the `ORDER BY` list).
    pub order_by: &'static str,
    /// More assignments the claim makes, after the token and expiry (`""` for none). Their
    /// right-hand sides see the row as it was before the claim.
    pub also_set: &'static str,
}

/// A claimed row: its id and the token of the claim, which every write of the holder names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, diesel::QueryableByName)]
pub struct Claim {
    /// The row's key.
    #[diesel(sql_type = SqlUuid)]
    pub id: Uuid,
    /// The claim's token.
    #[diesel(sql_type = BigInt)]
    pub token: Token,
}

/// `now()` plus `lease`, to write a row already claimed (an insert that leases its rows to
/// the writer).
pub fn expiry_after(lease: Duration) -> SqlLiteral<Nullable<Timestamptz>> {
    diesel::dsl::sql(&format!("now() + interval '{} microseconds'", lease.as_micros()))
}

impl LeaseTable {
    /// The claim statement, returning `returning` (a `RETURNING` list; the token column gives
    /// the claim's token): `$1` is the lease, `$2` the most rows taken. Bind the fragments'
    /// own parameters from `$3`, then load the rows.
    ///
    /// The rows are taken with `FOR UPDATE SKIP LOCKED` and leased in the same statement,
    /// committed at once: two claimers never take the same row, and nobody holds a
    /// transaction across the work.
    pub fn claim_query(
        &self,
        claiming: &Claiming,
        returning: &'static str,
        lease: Duration,
        limit: i64,
    ) -> BoxedSqlQuery<'static, Pg, SqlQuery> {
        self.claiming(claiming, returning, lease, limit)
    }

    fn claiming(
        &self,
        claiming: &Claiming,
        returning: &str,
        lease: Duration,
        limit: i64,
    ) -> BoxedSqlQuery<'static, Pg, SqlQuery> {
        let LeaseTable { table, id, token, tokens, expiry, unfinished } = *self;
        let Claiming { due, order_by, also_set } = *claiming;
        let also_set = if also_set.is_empty() { String::new() } else { format!(", {also_set}") };
        // The rows are picked once, in a materialised CTE: an `IN (subquery)` the planner may
        // run more than once could pick other rows on each run (SKIP LOCKED) and lease more
        // than `limit` of them.
        let sql = format!(
            "WITH picked AS MATERIALIZED (SELECT {id} FROM {table} \
                                          WHERE ({unfinished}) AND ({due}) AND ({expiry} IS NULL OR {expiry} < now()) \
                                          ORDER BY {order_by} LIMIT $2 FOR UPDATE SKIP LOCKED) \
             UPDATE {table} SET {token} = nextval('{tokens}'), {expiry} = now() + make_interval(secs => $1){also_set} \
             WHERE {id} IN (SELECT {id} FROM picked) \
             RETURNING {returning}"
        );
        diesel::sql_query(sql).into_boxed().bind::<Double, _>(lease.as_secs_f64()).bind::<BigInt, _>(limit)
    }

    /// Claims up to `limit` due rows for `lease`: their ids and tokens. For a claim whose
    /// fragments take parameters, or that returns more of the row, see [`Self::claim_query`].
    pub async fn claim(
        &self,
        connection: &mut AsyncPgConnection,
        claiming: &Claiming,
        lease: Duration,
        limit: i64,
    ) -> QueryResult<Vec<Claim>> {
        let returning = format!("{} AS id, {} AS token", self.id, self.token);
        self.claiming(claiming, &returning, lease, limit).load(connection).await
    }

    /// An `UPDATE` of one held row, fenced: `set` applies only while `held` is the row's
    /// current claim and the row is unfinished. `$1` and `$2` are the fence's; bind `set`'s
    /// own parameters from `$3`, then execute: 1 row means the write applied, 0 that the
    /// lease was lost.
    pub fn fenced_update(&self, set: &'static str, held: Claim) -> BoxedSqlQuery<'static, Pg, SqlQuery> {
        self.fenced(set, held)
    }

    fn fenced(&self, set: &str, held: Claim) -> BoxedSqlQuery<'static, Pg, SqlQuery> {
        let LeaseTable { table, id, token, unfinished, .. } = *self;
        diesel::sql_query(format!("UPDATE {table} SET {set} WHERE {id} = $1 AND {token} = $2 AND ({unfinished})"))
            .into_boxed()
            .bind::<SqlUuid, _>(held.id)
            .bind::<BigInt, _>(held.token)
    }

    /// Like [`Self::fenced_update`] for many held rows in one statement: each row changes
    /// only while its claim holds. `$1` and `$2` are the fence's (ids and tokens); execute to
    /// learn how many applied.
    pub fn fenced_update_many(&self, set: &'static str, held: &[Claim]) -> BoxedSqlQuery<'static, Pg, SqlQuery> {
        self.fenced_many(set, held)
    }

    fn fenced_many(&self, set: &str, held: &[Claim]) -> BoxedSqlQuery<'static, Pg, SqlQuery> {
        let LeaseTable { table, id, token, unfinished, .. } = *self;
        diesel::sql_query(format!(
            "UPDATE {table} SET {set} \
             WHERE ({id}, {token}) IN (SELECT * FROM unnest($1::uuid[], $2::bigint[])) AND ({unfinished})"
        ))
        .into_boxed()
        .bind::<Array<SqlUuid>, _>(held.iter().map(|claim| claim.id).collect::<Vec<_>>())
        .bind::<Array<BigInt>, _>(held.iter().map(|claim| claim.token).collect::<Vec<_>>())
    }

    /// Extends a held lease to `lease` from now. `false`: the lease is lost (taken over,
    /// given back, or the row finished); the holder must stop.
    pub async fn renew(&self, connection: &mut AsyncPgConnection, held: Claim, lease: Duration) -> QueryResult<bool> {
        let set = format!("{} = now() + make_interval(secs => $3)", self.expiry);
        let renewed = self.fenced(&set, held).bind::<Double, _>(lease.as_secs_f64()).execute(connection).await?;
        Ok(renewed == 1)
    }

    /// Gives a held row back: free at once for the next claim, and the holder's token no
    /// longer matches. `false`: it was not held any more.
    pub async fn release(&self, connection: &mut AsyncPgConnection, held: Claim) -> QueryResult<bool> {
        let released = self.fenced(&self.end(), held).execute(connection).await?;
        Ok(released == 1)
    }

    /// Gives many held rows back (see [`Self::release`]). Returns how many were still held.
    pub async fn release_many(&self, connection: &mut AsyncPgConnection, held: &[Claim]) -> QueryResult<usize> {
        if held.is_empty() {
            return Ok(0);
        }
        self.fenced_many(&self.end(), held).execute(connection).await
    }

    /// The assignments that end a lease: no holder, no expiry.
    fn end(&self) -> String {
        format!("{} = NULL, {} = NULL", self.token, self.expiry)
    }

    /// The next token, to write a row already claimed (an insert that leases its rows to the
    /// writer, with [`expiry_after`]).
    pub fn next_token(&self) -> SqlLiteral<Nullable<BigInt>> {
        diesel::dsl::sql(&format!("nextval('{}')", self.tokens))
    }
}
