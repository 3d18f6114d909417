//! Refuses bodies above the limit before they are read, in the family's shape (CONTRACTS §0).
//!
//! A declared `Content-Length` above the limit is answered with 413 at once. Chunked bodies
//! have no length up front; the JSON and payload extractors enforce the same limit while
//! reading (see [`extractor_configs`]).

use super::errors::{CommonError, FamilyError};
use super::family::Family;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{Error, HttpRequest, web};

/// The limit in force, stored in app data.
#[derive(Clone, Copy, Debug)]
pub struct BodyLimit(pub usize);

/// Middleware: 413 for a declared length above the limit.
pub async fn reject_oversized(
    request: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let limit = request.app_data::<BodyLimit>().map_or(usize::MAX, |limit| limit.0);
    let declared = request
        .headers()
        .get(actix_web::http::header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<usize>().ok());
    if declared.is_some_and(|length| length > limit) {
        let family = Family::of(request.path());
        return Err(FamilyError { family, error: CommonError::PayloadTooLarge }.into());
    }
    next.call(request).await
}

fn too_large_or_bad(request: &HttpRequest, oversized: bool, cause: impl Into<Error>) -> Error {
    if oversized {
        FamilyError { family: Family::of(request.path()), error: CommonError::PayloadTooLarge }.into()
    } else {
        cause.into()
    }
}

/// JSON and raw payload extractor configs enforcing `limit` with the family's 413.
pub fn extractor_configs(limit: usize) -> (web::JsonConfig, web::PayloadConfig) {
    let json = web::JsonConfig::default().limit(limit).error_handler(|error, request| {
        let oversized = matches!(
            error,
            actix_web::error::JsonPayloadError::Overflow { .. }
                | actix_web::error::JsonPayloadError::OverflowKnownLength { .. }
        );
        too_large_or_bad(request, oversized, error)
    });
    (json, web::PayloadConfig::new(limit))
}
