//! `/openapi.json` and the `/docs` UI. Swagger UI's assets are compiled into the binary
//! (`utoipa-swagger-ui`'s `vendored` feature), so the page renders with no internet.
//!
//! The document itself is built once at start (`App::build`, from [`crate::openapi`]) and
//! handed over in [`AppState`]: the document lists these handlers, so this module does not
//! name it back.

use super::Router;
use crate::state::AppState;
use actix_web::http::Method;
use actix_web::http::header::{self, ContentType};
use actix_web::{HttpResponse, web};
use utoipa_swagger_ui::{Config, SwaggerUi};

pub(super) fn routes(router: &mut Router<'_>) {
    router
        .route(Method::GET, "/openapi.json", openapi_json)
        .route(Method::GET, "/docs", docs_redirect)
        .get_service("/docs/{file}", SwaggerUi::new("/docs/{_:.*}").config(Config::from("/openapi.json")));
}

/// The OpenAPI document of every route.
#[utoipa::path(get, path = "/openapi.json", tag = "operations",
    responses((status = 200, description = "OpenAPI 3.1 document", content_type = "application/json")))]
pub async fn openapi_json(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok().content_type(ContentType::json()).body(state.openapi_json.clone())
}

/// The human-readable API documentation.
#[utoipa::path(get, path = "/docs", tag = "operations",
    responses((status = 308, description = "Redirect to the Swagger UI at `/docs/`")))]
pub async fn docs_redirect() -> HttpResponse {
    HttpResponse::PermanentRedirect().insert_header((header::LOCATION, "/docs/")).finish()
}
