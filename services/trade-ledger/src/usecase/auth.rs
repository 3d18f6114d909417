//! Authentication of bot keys, partner keys and user tokens (CONTRACTS §1, §4).

use super::storage_error;
use crate::domain::keys;
use crate::store::records::{self, StoredKey};
use bus::BusError;
use bus::messages::ledger_auth::{Credential, Principal};
use diesel_async::AsyncPgConnection;
use domain::{BotId, PartnerId, UserId};
use platform::db::PgPool;

/// Resolves a credential to its owner. A bot credential answers 404 for an unknown slug and
/// 403 for a key that is not that bot's, in that order (CONTRACTS §1).
pub async fn authenticate(pool: &PgPool, credential: Credential) -> Result<Principal, BusError> {
    let mut connection = pool.get().await.map_err(storage_error)?;
    match credential {
        Credential::Bot { slug, api_key } => {
            let bot = records::find_bot_by_slug(&mut connection, &slug)
                .await
                .map_err(storage_error)?
                .ok_or_else(|| BusError::not_found(format!("Bot with slug '{slug}' not found")))?;
            match stored_key(&mut connection, api_key.expose()).await? {
                Some(key) if key.owner_kind == "bot" && key.owner_id == bot.id => {
                    Ok(Principal::Bot { bot_id: BotId::from_uuid(bot.id), slug: bot.slug })
                }
                _ => Err(BusError::Forbidden { message: "Invalid API key for this bot".to_string() }),
            }
        }
        Credential::Partner { api_key } => match stored_key(&mut connection, api_key.expose()).await? {
            Some(key) if key.owner_kind == "partner" => {
                Ok(Principal::Partner { partner_id: PartnerId::from_uuid(key.owner_id) })
            }
            _ => Err(BusError::Forbidden { message: "Invalid API key".to_string() }),
        },
        Credential::User { token } => match stored_key(&mut connection, token.expose()).await? {
            Some(key) if key.owner_kind == "user" => Ok(Principal::User { user_id: UserId::from_uuid(key.owner_id) }),
            _ => Err(BusError::Forbidden { message: "Invalid token".to_string() }),
        },
    }
}

/// The stored key that `presented` is, if any: found by its prefix, then its hash compared in
/// constant time.
async fn stored_key(connection: &mut AsyncPgConnection, presented: &str) -> Result<Option<StoredKey>, BusError> {
    let Some(prefix) = keys::lookup_prefix(presented) else { return Ok(None) };
    let stored = records::find_key(connection, prefix).await.map_err(storage_error)?;
    Ok(stored.filter(|key| keys::matches(presented, &key.secret_sha256)))
}
