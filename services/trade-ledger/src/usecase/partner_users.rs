//! The Partner API's view of a partner's users: another partner's user is not found.

use super::storage_error;
use crate::store::records;
use bus::BusError;
use bus::messages::partner::{GetPartnerUser, PartnerUser};
use platform::db::PgPool;

/// One of the partner's users with the brokers (exchanges) of their accounts.
pub async fn get(pool: &PgPool, request: GetPartnerUser) -> Result<PartnerUser, BusError> {
    let mut connection = pool.get().await.map_err(storage_error)?;
    if !records::partner_has_user(&mut connection, request.partner_id, request.user_id).await.map_err(storage_error)? {
        return Err(BusError::not_found(format!("User '{}' not found", request.user_id)));
    }
    let exchanges = records::user_brokers(&mut connection, request.user_id).await.map_err(storage_error)?;
    Ok(PartnerUser { user_id: request.user_id, exchanges })
}
