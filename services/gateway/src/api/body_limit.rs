//! Refuses bodies above the limit before they are read, in the family's shape
//! (docs/api/common.md#body-limits).
//!
//! A declared `Content-Length` above the limit is answered with 413 at once. Chunked bodies
//! have no length up front; the JSON and payload extractors enforce the same limit while
//! reading (see [`extractor_configs`]).

use super::errors::{CommonError, FamilyError};
use super::family::Family;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::{ErrorHandlerResponse, Next};
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

/// Gives any 413 the family's body: a chunked body has no length to check up front and
/// overflows while being read, where actix answers in plain text.
pub fn family_shaped_413<B>(response: ServiceResponse<B>) -> actix_web::Result<ErrorHandlerResponse<B>> {
    let (request, _plain) = response.into_parts();
    let shaped = CommonError::PayloadTooLarge.respond(Family::of(request.path()));
    Ok(ErrorHandlerResponse::Response(ServiceResponse::new(request, shaped).map_into_right_body()))
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
