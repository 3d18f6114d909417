//! Authentication of bot keys, partner keys and user tokens (docs/api/bot.md#authentication,
//! docs/api/common.md#keys-and-tokens).
//!
//! The gateway sends a [`KeyProof`] (lookup prefix + SHA-256), never the key: the row is found
//! by its prefix and the digests are compared in constant time.

use super::storage_error;
use crate::domain::keys;
use crate::store::records::{self, KeyOwner};
use bus::BusError;
use bus::messages::ledger_auth::{Credential, Principal};
use diesel_async::AsyncPgConnection;
use domain::api_key::KeyProof;
use platform::db::PgPool;

/// Resolves a credential to its owner. A bot credential answers 404 for an unknown slug and
/// 403 for a key that is not that bot's, in that order (docs/api/bot.md#authentication).
pub async fn authenticate(pool: &PgPool, credential: Credential) -> Result<Principal, BusError> {
    let mut connection = pool.get().await.map_err(storage_error)?;
    match credential {
        Credential::Bot { slug, key } => {
            let bot = records::find_bot_by_slug(&mut connection, &slug)
                .await
                .map_err(storage_error)?
                .ok_or_else(|| BusError::not_found(format!("Bot with slug '{slug}' not found")))?;
            match key_owner(&mut connection, &key).await? {
                Some(KeyOwner::Bot(owner)) if owner == bot.id => Ok(Principal::Bot { bot_id: bot.id, slug: bot.slug }),
                _ => Err(BusError::Forbidden { message: "Invalid API key for this bot".to_string() }),
            }
        }
        Credential::Partner { key } => match key_owner(&mut connection, &key).await? {
            Some(KeyOwner::Partner(partner_id)) => Ok(Principal::Partner { partner_id }),
            _ => Err(BusError::Forbidden { message: "Invalid API key".to_string() }),
        },
        Credential::User { token } => match key_owner(&mut connection, &token).await? {
            // A deleted user's token stops working with the user.
            Some(KeyOwner::User(user_id))
                if records::user_is_live(&mut connection, user_id).await.map_err(storage_error)? =>
            {
                Ok(Principal::User { user_id })
            }
            _ => Err(BusError::Forbidden { message: "Invalid token".to_string() }),
        },
    }
}

/// The owner of the stored key that `presented` proves, if any: found by its prefix, then its
/// digest compared in constant time.
async fn key_owner(connection: &mut AsyncPgConnection, presented: &KeyProof) -> Result<Option<KeyOwner>, BusError> {
    let well_formed = domain::api_key::is_lookup(&presented.lookup);
    let Some(digest) = presented.digest_bytes().filter(|_| well_formed) else { return Ok(None) };
    let stored = records::find_key(connection, &presented.lookup).await.map_err(storage_error)?;
    Ok(stored.filter(|key| keys::digest_matches(&digest, &key.secret_sha256)).and_then(|key| key.owner()))
}
