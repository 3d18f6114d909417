//! Who is calling: the partner key in `x-api-key`, resolved by the ledger.

use super::errors::PartnerApiError;
use crate::state::AppState;
use actix_web::HttpRequest;
use bus::messages::ledger_auth::{Credential, Principal};
use bus::{BusError, RequestError};
use domain::PartnerId;
use domain::api_key::KeyProof;

/// Resolves the request's partner, or 401 / 1401.
pub async fn authenticate(request: &HttpRequest, state: &AppState) -> Result<PartnerId, PartnerApiError> {
    let api_key = request
        .headers()
        .get("x-api-key")
        .and_then(|value| value.to_str().ok())
        .filter(|value| !value.is_empty())
        .ok_or_else(|| PartnerApiError::Unauthorized("Partner API key required. Include x-api-key header.".into()))?;
    // Only the key's lookup prefix and digest cross the bus, never the key.
    let credential = Credential::Partner { key: KeyProof::of(api_key) };
    let invalid = || PartnerApiError::Unauthorized("Invalid partner API key".into());
    match bus::request(&state.nats, &state.subjects.authenticate(), &credential, state.backend_timeout()).await {
        Ok(Principal::Partner { partner_id }) => Ok(partner_id),
        Ok(Principal::Bot { .. } | Principal::User { .. }) => Err(invalid()),
        Err(RequestError::Rejected(
            BusError::Forbidden { .. } | BusError::NotFound { .. } | BusError::Invalid { .. },
        )) => Err(invalid()),
        Err(other) => Err(PartnerApiError::common(other)),
    }
}
