//! Sealed broker credentials, one per broker account.

use super::schema::broker_credentials;
use crate::crypto::Sealed;
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

/// A stored credential, still sealed.
#[derive(Queryable, Debug, Clone)]
pub struct StoredCredential {
    /// `live` or `sandbox`.
    pub environment: String,
    /// Nonce.
    pub nonce: Vec<u8>,
    /// Ciphertext.
    pub ciphertext: Vec<u8>,
}

impl StoredCredential {
    /// The sealed value.
    pub fn sealed(&self) -> Sealed {
        Sealed { nonce: self.nonce.clone(), ciphertext: self.ciphertext.clone() }
    }
}

/// Stores (or replaces) an account's credential.
pub async fn upsert(
    connection: &mut AsyncPgConnection,
    account: Uuid,
    environment: &str,
    sealed: &Sealed,
) -> QueryResult<()> {
    diesel::insert_into(broker_credentials::table)
        .values((
            broker_credentials::broker_account_id.eq(account),
            broker_credentials::environment.eq(environment),
            broker_credentials::nonce.eq(&sealed.nonce),
            broker_credentials::ciphertext.eq(&sealed.ciphertext),
        ))
        .on_conflict(broker_credentials::broker_account_id)
        .do_update()
        .set((
            broker_credentials::environment.eq(environment),
            broker_credentials::nonce.eq(&sealed.nonce),
            broker_credentials::ciphertext.eq(&sealed.ciphertext),
            broker_credentials::updated_at.eq(diesel::dsl::now),
        ))
        .execute(connection)
        .await?;
    Ok(())
}

/// The credential of `account`, if one is stored.
pub async fn find(connection: &mut AsyncPgConnection, account: Uuid) -> QueryResult<Option<StoredCredential>> {
    broker_credentials::table
        .filter(broker_credentials::broker_account_id.eq(account))
        .select((broker_credentials::environment, broker_credentials::nonce, broker_credentials::ciphertext))
        .first(connection)
        .await
        .optional()
}
