//! `store exchange credentials`: a partner user's exchange API keys, sealed under their broker
//! account before the ledger creates the user (the ledger never holds them).
//!
//! Checked (`src/domain/exchange_credentials.rs`) → sealed in memory, bound to the account and
//! the exchange → written in one transaction that rolls back if the request's deadline has
//! passed. Storing again replaces the keys, so a replayed request reaches the same row and
//! answers the same, unless the account's user was deleted meanwhile: an erased account
//! (`erased_broker_accounts`, checked under the account's advisory lock, which the erasure
//! takes too) is refused and nothing is written, so a late replay cannot bring the keys back.
//! Only the broker account id and the exchange id are ever logged.

use crate::crypto::{CipherError, CredentialCipher, ExchangeKeys};
use crate::domain::exchange_credentials;
use crate::store::credentials;
use crate::usecase::storage_error;
use bus::BusError;
use bus::deadline::DeadlineExceeded;
use bus::messages::credentials::StoreExchangeCredentials;
use diesel_async::AsyncConnection;
use platform::db::PgPool;
use tracing::{info, warn};

/// What the transaction did.
enum Outcome {
    Stored,
    /// The account holds a Tradier token: left as it is.
    HoldsTradierToken,
    /// The account's user was deleted: nothing is stored for it again.
    Erased,
}

/// What can stop the write.
enum Failure {
    Storage(diesel::result::Error),
    /// The request's deadline passed before the commit: rolled back (see `bus::deadline`).
    Late(DeadlineExceeded),
}

impl From<diesel::result::Error> for Failure {
    fn from(error: diesel::result::Error) -> Self {
        Failure::Storage(error)
    }
}

/// Seals and stores the keys of `request`; answers `true`.
///
/// Refuses a malformed request with `invalid` naming the field, answers `unavailable` when no
/// encryption key is configured or the database fails, `conflict` when the account holds a
/// Tradier token (which a request on the bus never replaces), and `not_found` when the
/// account's user was deleted (writing nothing).
pub async fn store(
    pool: &PgPool,
    cipher: &CredentialCipher,
    request: StoreExchangeCredentials,
) -> Result<bool, BusError> {
    let StoreExchangeCredentials { broker_account_id: account, exchange_id, public_key, secret_key, extra_key } =
        request;
    exchange_credentials::check(&exchange_id, &public_key, &secret_key, extra_key.as_ref())
        .map_err(|invalid| BusError::invalid(invalid.to_string()))?;
    let keys = ExchangeKeys { public_key, secret_key, extra_key: exchange_credentials::extra_key(extra_key) };
    let sealed = cipher.seal_exchange_keys(account, &exchange_id, &keys).map_err(|error: CipherError| {
        // Only `NoKey` happens here (sealing an in-memory buffer does not fail otherwise): a
        // deployment without credentials.encryption_key, which an operator must fix. The error
        // names a setting, never a key.
        warn!(broker_account.id = %account, exchange.id = %exchange_id, error = %error, "exchange keys not stored");
        BusError::unavailable(error.to_string())
    })?;

    let mut connection = pool.get().await.map_err(storage_error)?;
    let outcome = connection
        .transaction::<_, Failure, _>(async |tx| {
            // The erasure of the account's user takes the same lock before it deletes and
            // remembers the account: either it has committed and its tombstone is seen here,
            // or it waits for this store and then erases what it wrote.
            credentials::lock_accounts(tx, &[account]).await?;
            if credentials::is_erased(tx, account).await? {
                return Ok(Outcome::Erased);
            }
            let written = credentials::upsert_exchange_keys(tx, account, &exchange_id, &sealed).await?;
            // Past the deadline the requester has reported a timeout: roll back rather than
            // keep keys for a user the ledger may never create.
            bus::deadline::check().map_err(Failure::Late)?;
            Ok(if written { Outcome::Stored } else { Outcome::HoldsTradierToken })
        })
        .await
        .map_err(|failure| match failure {
            Failure::Storage(error) => storage_error(error),
            Failure::Late(exceeded) => exceeded.into(),
        })?;
    match outcome {
        Outcome::Stored => {
            info!(broker_account.id = %account, exchange.id = %exchange_id, "exchange keys stored");
            Ok(true)
        }
        Outcome::HoldsTradierToken => {
            warn!(
                broker_account.id = %account,
                exchange.id = %exchange_id,
                "exchange keys refused: the account holds a Tradier token"
            );
            Err(BusError::Conflict {
                message: format!("brokerAccountId {account} holds a Tradier token, which is not replaced"),
            })
        }
        Outcome::Erased => {
            // A late replay of the user's creation, after the user was deleted.
            info!(
                broker_account.id = %account,
                exchange.id = %exchange_id,
                "exchange keys refused: the account's user was deleted"
            );
            Err(BusError::NotFound { message: format!("The user of broker account {account} was deleted") })
        }
    }
}
