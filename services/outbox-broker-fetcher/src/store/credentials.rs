//! Sealed broker credentials, one per broker account, each with the id of the key that sealed
//! it and the version of its associated data.

use super::schema::broker_credentials;
use crate::crypto::{Aad, CipherError, Sealed};
use diesel::prelude::*;
use diesel::sql_types::{Array, Bytea, SmallInt, Text, Uuid as SqlUuid};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use domain::BrokerAccountId;

/// A stored credential, still sealed.
#[derive(Queryable, Debug, Clone)]
pub struct StoredCredential {
    /// `live` or `sandbox`.
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
        Ok(Sealed {
            nonce: self.nonce.clone(),
            ciphertext: self.ciphertext.clone(),
            key_id: self.key_id.clone(),
            aad: Aad::from_version(self.aad_version)?,
        })
    }
}

/// Stores (or replaces) an account's credential.
pub async fn upsert(
    connection: &mut AsyncPgConnection,
    account: BrokerAccountId,
    environment: &str,
    sealed: &Sealed,
) -> QueryResult<()> {
    diesel::insert_into(broker_credentials::table)
        .values((
            broker_credentials::broker_account_id.eq(account),
            broker_credentials::environment.eq(environment),
            broker_credentials::nonce.eq(&sealed.nonce),
            broker_credentials::ciphertext.eq(&sealed.ciphertext),
            broker_credentials::key_id.eq(&sealed.key_id),
            broker_credentials::aad_version.eq(sealed.aad.version()),
        ))
        .on_conflict(broker_credentials::broker_account_id)
        .do_update()
        .set((
            broker_credentials::environment.eq(environment),
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

/// The credential of `account`, if one is stored.
pub async fn find(
    connection: &mut AsyncPgConnection,
    account: BrokerAccountId,
) -> QueryResult<Option<StoredCredential>> {
    broker_credentials::table
        .filter(broker_credentials::broker_account_id.eq(account))
        .select(STORED)
        .first(connection)
        .await
        .optional()
}

/// The columns of a [`StoredCredential`].
const STORED: (
    broker_credentials::environment,
    broker_credentials::nonce,
    broker_credentials::ciphertext,
    broker_credentials::key_id,
    broker_credentials::aad_version,
) = (
    broker_credentials::environment,
    broker_credentials::nonce,
    broker_credentials::ciphertext,
    broker_credentials::key_id,
    broker_credentials::aad_version,
);

/// Up to `limit` credentials, in account order after `after`, that are not sealed with
/// `key_id` and the current associated data: what a rotation has left to re-seal.
pub async fn not_current(
    connection: &mut AsyncPgConnection,
    key_id: &str,
    after: Option<BrokerAccountId>,
    limit: i64,
) -> QueryResult<Vec<(BrokerAccountId, StoredCredential)>> {
    let mut query = broker_credentials::table
        .filter(broker_credentials::key_id.ne(key_id).or(broker_credentials::aad_version.ne(Aad::CURRENT.version())))
        .order(broker_credentials::broker_account_id)
        .limit(limit)
        .select((broker_credentials::broker_account_id, STORED))
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
    /// The environment as read (and bound into the new value).
    pub environment: String,
    /// The nonce as read: random per write, so it tells whether the row changed since.
    pub read_nonce: Vec<u8>,
    /// The new value.
    pub sealed: Sealed,
}

/// Writes re-sealed credentials in one statement, each only if its row is still what was read
/// (same nonce and environment): a credential set again meanwhile is already sealed with the
/// current key and is left alone. Returns the accounts updated.
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
         FROM unnest($1::uuid[], $2::text[], $3::bytea[], $4::bytea[], $5::bytea[], $6::text[], $7::int2[]) \
              AS v(account, environment, read_nonce, nonce, ciphertext, key_id, aad_version) \
         WHERE c.broker_account_id = v.account AND c.nonce = v.read_nonce AND c.environment = v.environment \
         RETURNING c.broker_account_id",
    )
    .bind::<Array<SqlUuid>, _>(reseals.iter().map(|r| r.account).collect::<Vec<_>>())
    .bind::<Array<Text>, _>(reseals.iter().map(|r| r.environment.clone()).collect::<Vec<_>>())
    .bind::<Array<Bytea>, _>(reseals.iter().map(|r| r.read_nonce.clone()).collect::<Vec<_>>())
    .bind::<Array<Bytea>, _>(reseals.iter().map(|r| r.sealed.nonce.clone()).collect::<Vec<_>>())
    .bind::<Array<Bytea>, _>(reseals.iter().map(|r| r.sealed.ciphertext.clone()).collect::<Vec<_>>())
    .bind::<Array<Text>, _>(reseals.iter().map(|r| r.sealed.key_id.clone()).collect::<Vec<_>>())
    .bind::<Array<SmallInt>, _>(reseals.iter().map(|r| r.sealed.aad.version()).collect::<Vec<_>>())
    .load(connection)
    .await?;
    Ok(rows.into_iter().map(|row| row.broker_account_id).collect())
}
