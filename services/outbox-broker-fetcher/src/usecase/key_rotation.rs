//! `admin rotate-keys`: re-seals every stored credential, of either kind, that is not sealed
//! with the current key and the latest associated data of its kind (a Tradier token: account
//! id and environment; exchange keys: account id and exchange id).
//!
//! In batches, in account order: read a batch (no transaction), open and re-seal each value in
//! memory, then write the batch in one statement where each row is updated only if it is
//! still what was read (its nonce, random per write, says so). A credential set again
//! meanwhile is already sealed with the current key and is left alone. Running it again finds
//! nothing left: it re-seals 0.

use crate::crypto::{CipherError, CredentialCipher};
use crate::store::credentials::{self, Reseal, SealedRow};
use anyhow::Context;
use diesel_async::AsyncPgConnection;
use domain::BrokerAccountId;
use serde::Serialize;
use tracing::{info, warn};

/// Rows read and written at once.
pub const DEFAULT_BATCH: i64 = 500;

/// What a rotation did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RotationReport {
    /// Credentials re-sealed with the current key and associated data.
    pub resealed: usize,
    /// Credentials changed between read and write (set again meanwhile); left as they are.
    pub changed_meanwhile: usize,
    /// Credentials that could not be opened, with why (a key id, never a key or token).
    pub unreadable: Vec<Unreadable>,
}

/// A credential the rotation could not open.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Unreadable {
    /// The broker account.
    pub broker_account_id: BrokerAccountId,
    /// Why it did not open.
    pub error: String,
}

/// Re-seals, `batch` rows at a time, every credential not sealed as `cipher` seals now.
pub async fn rotate(
    connection: &mut AsyncPgConnection,
    cipher: &CredentialCipher,
    batch: i64,
) -> anyhow::Result<RotationReport> {
    let current = cipher.current_key_id().ok_or(CipherError::NoKey).context("rotating credential keys")?;
    let mut report = RotationReport::default();
    let mut after = None;
    loop {
        let rows = credentials::not_current(connection, current, after, batch.max(1))
            .await
            .context("reading credentials to re-seal")?;
        let Some((last, _)) = rows.last() else { break };
        after = Some(*last);
        let mut reseals = Vec::with_capacity(rows.len());
        for (account, stored) in rows {
            match reseal(cipher, account, &stored) {
                Ok(reseal) => reseals.push(reseal),
                Err(error) => {
                    warn!(broker_account.id = %account, error = %error, "credential not re-sealed: it does not open");
                    report.unreadable.push(Unreadable { broker_account_id: account, error: error.to_string() });
                }
            }
        }
        let written = credentials::reseal_many(connection, &reseals).await.context("writing re-sealed credentials")?;
        report.resealed += written.len();
        report.changed_meanwhile += reseals.len().saturating_sub(written.len());
        info!(resealed = written.len(), key.id = current, "batch of credentials re-sealed");
    }
    Ok(report)
}

/// Opens a stored credential with whichever key sealed it and seals it with the current one,
/// bound to what its row says it is.
fn reseal(cipher: &CredentialCipher, account: BrokerAccountId, stored: &SealedRow) -> Result<Reseal, CipherError> {
    let binding = stored.label.binding()?;
    Ok(Reseal {
        account,
        label: stored.label.clone(),
        read_nonce: stored.nonce.clone(),
        sealed: cipher.reseal(account, binding, &stored.sealed()?)?,
    })
}
