//! Sealed broker credentials, one per broker account, each with the id of the key that sealed
//! it and the version of its associated data. A row holds one of two kinds of credential:
//! a Tradier access token ([`TRADIER_TOKEN`], with its environment) for the fetch path, or an
//! exchange's API keys ([`EXCHANGE_KEYS`], with their exchange id) stored for a partner's user.
//! The reads of one kind never return the other: a Tradier fetch must never get exchange keys.
//! The accounts of deleted users are remembered (`erased_broker_accounts`): exchange keys are
//! never stored for them again.

use super::schema::{broker_credentials, erased_broker_accounts};
use crate::broker::TradierEnvironment;
use crate::crypto::{Aad, Binding, CipherError, Sealed};
use diesel::prelude::*;
use diesel::sql_types::{Array, Bytea, Nullable, SmallInt, Text, Uuid as SqlUuid};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use domain::BrokerAccountId;

/// `kind` of a row holding a Tradier access token.
pub const TRADIER_TOKEN: &str = "tradier_token";
/// `kind` of a row holding an exchange's API keys.
pub const EXCHANGE_KEYS: &str = "exchange_keys";

/// A stored Tradier token, still sealed.
#[derive(Queryable, Selectable, Debug, Clone)]
#[diesel(table_name = broker_credentials, check_for_backend(diesel::pg::Pg))]
pub struct StoredCredential {
    /// `live` or `sandbox`.
    // Never NULL for a Tradier token (the table's shape check), and only those are read.
    #[diesel(select_expression = broker_credentials::environment.assume_not_null())]
    pub environment: String,
    /// Nonce.
    pub nonce: Vec<u8>,
    /// Ciphertext.
    pub ciphertext: Vec<u8>,
    /// The id of the key that sealed it.
    pub key_id: String,
    /// What the ciphertext is bound to ([`Aad::version`]).
    pub aad_version: i16,
}

impl StoredCredential {
    /// The sealed value; fails only on an associated-data version this code does not know.
    pub fn sealed(&self) -> Result<Sealed, CipherError> {
        sealed(&self.nonce, &self.ciphertext, &self.key_id, self.aad_version)
    }
}

/// Stored exchange keys, still sealed.
#[derive(Queryable, Selectable, Debug, Clone)]
#[diesel(table_name = broker_credentials, check_for_backend(diesel::pg::Pg))]
pub struct StoredExchangeKeys {
    /// The exchange the keys are for (bound into the seal).
    // Never NULL for exchange keys (the table's shape check), and only those are read.
    #[diesel(select_expression = broker_credentials::exchange_id.assume_not_null())]
    pub exchange_id: String,
    /// Nonce.
    pub nonce: Vec<u8>,
    /// Ciphertext.
    pub ciphertext: Vec<u8>,
    /// The id of the key that sealed it.
    pub key_id: String,
    /// What the ciphertext is bound to ([`Aad::version`]).
    pub aad_version: i16,
}

impl StoredExchangeKeys {
    /// The sealed value; fails only on an associated-data version this code does not know.
    pub fn sealed(&self) -> Result<Sealed, CipherError> {
        sealed(&self.nonce, &self.ciphertext, &self.key_id, self.aad_version)
    }
}

fn sealed(nonce: &[u8], ciphertext: &[u8], key_id: &str, aad_version: i16) -> Result<Sealed, CipherError> {
    Ok(Sealed {
        nonce: nonce.to_vec(),
        ciphertext: ciphertext.to_vec(),
        key_id: key_id.to_string(),
        aad: Aad::from_version(aad_version)?,
    })
}

/// Stores (or replaces) an account's Tradier token. It replaces whatever the account held,
/// exchange keys included: only an operator (`admin set-credentials`) stores a Tradier token.
pub async fn upsert(
    connection: &mut AsyncPgConnection,
    account: BrokerAccountId,
    environment: &str,
    sealed: &Sealed,
) -> QueryResult<()> {
    diesel::insert_into(broker_credentials::table)
        .values((
            broker_credentials::broker_account_id.eq(account),
            broker_credentials::kind.eq(TRADIER_TOKEN),
            broker_credentials::environment.eq(environment),
            broker_credentials::nonce.eq(&sealed.nonce),
            broker_credentials::ciphertext.eq(&sealed.ciphertext),
            broker_credentials::key_id.eq(&sealed.key_id),
            broker_credentials::aad_version.eq(sealed.aad.version()),
        ))
        .on_conflict(broker_credentials::broker_account_id)
        .do_update()
        .set((
            broker_credentials::kind.eq(TRADIER_TOKEN),
            broker_credentials::environment.eq(environment),
            broker_credentials::exchange_id.eq(None::<String>),
            broker_credentials::nonce.eq(&sealed.nonce),
            broker_credentials::ciphertext.eq(&sealed.ciphertext),
            broker_credentials::key_id.eq(&sealed.key_id),
            broker_credentials::aad_version.eq(sealed.aad.version()),
            broker_credentials::updated_at.eq(diesel::dsl::now),
        ))
        .execute(connection)
        .await?;
    Ok(())
}

/// Stores (or replaces) an account's exchange keys; storing again for the same account
/// replaces them, so a replayed request reaches the same row. Returns `false`, writing
/// nothing, when the account holds a Tradier token: a request on the bus never overwrites
/// what an operator stored. Whether the account was erased is the caller's check
/// ([`is_erased`], under [`lock_accounts`], in the same transaction).
pub async fn upsert_exchange_keys(
    connection: &mut AsyncPgConnection,
    account: BrokerAccountId,
    exchange_id: &str,
    sealed: &Sealed,
) -> QueryResult<bool> {
    let upsert = diesel::insert_into(broker_credentials::table)
        .values((
            broker_credentials::broker_account_id.eq(account),
            broker_credentials::kind.eq(EXCHANGE_KEYS),
            broker_credentials::exchange_id.eq(exchange_id),
            broker_credentials::nonce.eq(&sealed.nonce),
            broker_credentials::ciphertext.eq(&sealed.ciphertext),
            broker_credentials::key_id.eq(&sealed.key_id),
            broker_credentials::aad_version.eq(sealed.aad.version()),
        ))
        .on_conflict(broker_credentials::broker_account_id)
        .do_update()
        .set((
            broker_credentials::exchange_id.eq(exchange_id),
            broker_credentials::nonce.eq(&sealed.nonce),
            broker_credentials::ciphertext.eq(&sealed.ciphertext),
            broker_credentials::key_id.eq(&sealed.key_id),
            broker_credentials::aad_version.eq(sealed.aad.version()),
            broker_credentials::updated_at.eq(diesel::dsl::now),
        ));
    // `ON CONFLICT ... DO UPDATE ... WHERE`: a Tradier token's row is left as it is. (Called as
    // a path: in scope, this `filter` would make every other `filter` here ambiguous.)
    let written = diesel::query_dsl::methods::FilterDsl::filter(upsert, broker_credentials::kind.eq(EXCHANGE_KEYS))
        .execute(connection)
        .await?;
    Ok(written == 1)
}

/// The Tradier token of `account`, if one is stored. Exchange keys are never returned: an
/// account that holds them has no Tradier token.
pub async fn find(
    connection: &mut AsyncPgConnection,
    account: BrokerAccountId,
) -> QueryResult<Option<StoredCredential>> {
    broker_credentials::table
        .filter(broker_credentials::broker_account_id.eq(account))
        .filter(broker_credentials::kind.eq(TRADIER_TOKEN))
        .select(StoredCredential::as_select())
        .first(connection)
        .await
        .optional()
}

/// The exchange keys of `account`, if it holds them (a Tradier token is never returned).
pub async fn find_exchange_keys(
    connection: &mut AsyncPgConnection,
    account: BrokerAccountId,
) -> QueryResult<Option<StoredExchangeKeys>> {
    broker_credentials::table
        .filter(broker_credentials::broker_account_id.eq(account))
        .filter(broker_credentials::kind.eq(EXCHANGE_KEYS))
        .select(StoredExchangeKeys::as_select())
        .first(connection)
        .await
        .optional()
}

/// Erases every credential, of any kind, of `accounts`; returns how many rows went.
pub async fn delete_accounts(connection: &mut AsyncPgConnection, accounts: &[BrokerAccountId]) -> QueryResult<usize> {
    if accounts.is_empty() {
        return Ok(0);
    }
    diesel::delete(broker_credentials::table.filter(broker_credentials::broker_account_id.eq_any(accounts)))
        .execute(connection)
        .await
}

/// Takes the transaction-level advisory lock of each of `accounts` (held until the transaction
/// ends), one at a time in account order, so that transactions locking several never deadlock.
/// The erasure of a deleted user's accounts and the store of exchange keys both lock before
/// they read or write `erased_broker_accounts`: a store either commits before the erasure
/// (and its keys are erased) or sees the erasure's tombstone. Must run inside a transaction.
pub async fn lock_accounts(connection: &mut AsyncPgConnection, accounts: &[BrokerAccountId]) -> QueryResult<()> {
    let mut sorted = accounts.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    // One statement per account: the order in which one statement would take them is not
    // guaranteed.
    for account in sorted {
        diesel::sql_query("SELECT pg_advisory_xact_lock(hashtextextended($1::uuid::text, 0))")
            .bind::<SqlUuid, _>(account)
            .execute(connection)
            .await?;
    }
    Ok(())
}

/// Remembers `accounts` as erased (their user was deleted); returns how many were not yet.
pub async fn remember_erased(connection: &mut AsyncPgConnection, accounts: &[BrokerAccountId]) -> QueryResult<usize> {
    if accounts.is_empty() {
        return Ok(0);
    }
    let rows: Vec<_> = accounts.iter().map(|account| erased_broker_accounts::broker_account_id.eq(*account)).collect();
    diesel::insert_into(erased_broker_accounts::table).values(rows).on_conflict_do_nothing().execute(connection).await
}

/// Whether `account` was erased: its user was deleted, and nothing is stored for it again.
pub async fn is_erased(connection: &mut AsyncPgConnection, account: BrokerAccountId) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        erased_broker_accounts::table.filter(erased_broker_accounts::broker_account_id.eq(account)),
    ))
    .get_result(connection)
    .await
}

/// What a row says its credential is: the columns its seal is bound to.
#[derive(Queryable, Selectable, Debug, Clone, PartialEq, Eq)]
#[diesel(table_name = broker_credentials, check_for_backend(diesel::pg::Pg))]
pub struct Label {
    /// [`TRADIER_TOKEN`] or [`EXCHANGE_KEYS`].
    pub kind: String,
    /// A Tradier token's environment (`live` / `sandbox`).
    pub environment: Option<String>,
    /// Exchange keys' exchange.
    pub exchange_id: Option<String>,
}

impl Label {
    /// What a seal of this row is bound to. A label that cannot bind one (a kind or an
    /// environment this code does not know, a missing field) makes the row unreadable.
    pub fn binding(&self) -> Result<Binding<'_>, CipherError> {
        match (self.kind.as_str(), &self.environment, &self.exchange_id) {
            (TRADIER_TOKEN, Some(environment), None) => {
                let environment: TradierEnvironment = environment.parse().map_err(|_| CipherError::Undecryptable)?;
                Ok(Binding::Tradier(environment))
            }
            (EXCHANGE_KEYS, None, Some(exchange_id)) => Ok(Binding::ExchangeKeys { exchange_id }),
            _ => Err(CipherError::Undecryptable),
        }
    }
}

/// A stored credential of any kind, still sealed: what a rotation reads.
#[derive(Queryable, Selectable, Debug, Clone)]
#[diesel(table_name = broker_credentials, check_for_backend(diesel::pg::Pg))]
pub struct SealedRow {
    /// What the row says it holds.
    #[diesel(embed)]
    pub label: Label,
    /// Nonce.
    pub nonce: Vec<u8>,
    /// Ciphertext.
    pub ciphertext: Vec<u8>,
    /// The id of the key that sealed it.
    pub key_id: String,
    /// What the ciphertext is bound to ([`Aad::version`]).
    pub aad_version: i16,
}

impl SealedRow {
    /// The sealed value; fails only on an associated-data version this code does not know.
    pub fn sealed(&self) -> Result<Sealed, CipherError> {
        sealed(&self.nonce, &self.ciphertext, &self.key_id, self.aad_version)
    }
}

/// Up to `limit` credentials of any kind, in account order after `after`, that are not sealed
/// with `key_id` and the latest associated data of their kind: what a rotation has left to
/// re-seal.
pub async fn not_current(
    connection: &mut AsyncPgConnection,
    key_id: &str,
    after: Option<BrokerAccountId>,
    limit: i64,
) -> QueryResult<Vec<(BrokerAccountId, SealedRow)>> {
    // The table's shape check ties each version to its kind, so "not a latest version" is
    // "not the latest of its kind".
    let latest: Vec<i16> = Aad::LATEST.iter().map(|aad| aad.version()).collect();
    let mut query = broker_credentials::table
        .filter(broker_credentials::key_id.ne(key_id).or(broker_credentials::aad_version.ne_all(latest)))
        .order(broker_credentials::broker_account_id)
        .limit(limit)
        .select((broker_credentials::broker_account_id, SealedRow::as_select()))
        .into_boxed();
    if let Some(after) = after {
        query = query.filter(broker_credentials::broker_account_id.gt(after));
    }
    query.load(connection).await
}

/// A credential re-sealed in memory, to write over the value it was read as.
#[derive(Debug, Clone)]
pub struct Reseal {
    /// The broker account.
    pub account: BrokerAccountId,
    /// The row's label as read (and bound into the new value).
    pub label: Label,
    /// The nonce as read: random per write, so it tells whether the row changed since.
    pub read_nonce: Vec<u8>,
    /// The new value.
    pub sealed: Sealed,
}

/// Writes re-sealed credentials in one statement, each only if its row is still what was read
/// (same nonce and label): a credential set again meanwhile is already sealed with the current
/// key and is left alone, and a row relabelled meanwhile keeps a seal that does not open under
/// its new label. Returns the accounts updated.
pub async fn reseal_many(connection: &mut AsyncPgConnection, reseals: &[Reseal]) -> QueryResult<Vec<BrokerAccountId>> {
    #[derive(QueryableByName)]
    struct Resealed {
        #[diesel(sql_type = SqlUuid)]
        broker_account_id: BrokerAccountId,
    }
    if reseals.is_empty() {
        return Ok(Vec::new());
    }
    let rows: Vec<Resealed> = diesel::sql_query(
        "UPDATE broker_credentials AS c SET nonce = v.nonce, ciphertext = v.ciphertext, key_id = v.key_id, \
                                            aad_version = v.aad_version, updated_at = now() \
         FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::bytea[], $6::bytea[], $7::bytea[], \
                     $8::text[], $9::int2[]) \
              AS v(account, kind, environment, exchange_id, read_nonce, nonce, ciphertext, key_id, aad_version) \
         WHERE c.broker_account_id = v.account AND c.nonce = v.read_nonce AND c.kind = v.kind \
           AND c.environment IS NOT DISTINCT FROM v.environment \
           AND c.exchange_id IS NOT DISTINCT FROM v.exchange_id \
         RETURNING c.broker_account_id",
    )
    .bind::<Array<SqlUuid>, _>(reseals.iter().map(|r| r.account).collect::<Vec<_>>())
    .bind::<Array<Text>, _>(reseals.iter().map(|r| r.label.kind.clone()).collect::<Vec<_>>())
    .bind::<Array<Nullable<Text>>, _>(reseals.iter().map(|r| r.label.environment.clone()).collect::<Vec<_>>())
    .bind::<Array<Nullable<Text>>, _>(reseals.iter().map(|r| r.label.exchange_id.clone()).collect::<Vec<_>>())
    .bind::<Array<Bytea>, _>(reseals.iter().map(|r| r.read_nonce.clone()).collect::<Vec<_>>())
    .bind::<Array<Bytea>, _>(reseals.iter().map(|r| r.sealed.nonce.clone()).collect::<Vec<_>>())
    .bind::<Array<Bytea>, _>(reseals.iter().map(|r| r.sealed.ciphertext.clone()).collect::<Vec<_>>())
    .bind::<Array<Text>, _>(reseals.iter().map(|r| r.sealed.key_id.clone()).collect::<Vec<_>>())
    .bind::<Array<SmallInt>, _>(reseals.iter().map(|r| r.sealed.aad.version()).collect::<Vec<_>>())
    .load(connection)
    .await?;
    Ok(rows.into_iter().map(|row| row.broker_account_id).collect())
}
