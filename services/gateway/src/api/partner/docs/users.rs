//! Shapes of the `users/...` routes for the OpenAPI document. Requests are parsed field by
//! field (`users::parse_create`, `paging::parse`), so these types only describe them.

use super::{described, errors};
use std::collections::BTreeMap;
use utoipa::openapi::schema::{ObjectBuilder, OneOfBuilder, Schema, Type};
use utoipa::openapi::{RefOr, Response};
use utoipa::{IntoResponses, ToSchema};

/// `POST /users/list` (reference 003). The body may be empty (or `null`): the first page of
/// 10,000.
#[derive(ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ListUsersBody {
    /// Users in one page: -1 (the default) means 10,000, else 1 to 10,000 (0 is refused). A
    /// page also ends near 256 KiB, so it may hold fewer.
    #[schema(schema_with = page_limit)]
    limit: Option<i32>,
    /// The `nextPageId` of the previous page, as it came; absent, null or empty for the first.
    next_page_id: Option<String>,
}

/// `limit` of a partner list: -1, or 1 to 10,000 (a range with a hole at 0, so two schemas).
fn page_limit() -> Schema {
    let one_of = OneOfBuilder::new()
        .item(ObjectBuilder::new().schema_type(Type::Integer).enum_values(Some([-1])))
        .item(ObjectBuilder::new().schema_type(Type::Integer).minimum(Some(1)).maximum(Some(10_000)))
        .description(Some("-1 (the default) means 10,000; else 1 to 10,000"));
    Schema::OneOf(one_of.build())
}

/// A partner's user (reference 003).
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct PartnerUserData {
    /// The user's id.
    #[schema(format = Uuid)]
    user_id: String,
    /// The exchange the user was created on.
    exchange_id: Option<String>,
    /// The partner's own id of the user; null when none was given.
    exchange_user_id: Option<String>,
    /// When the user was created, unix seconds.
    created_at: i64,
    /// Bots of this user ever started.
    bots_started: i64,
    /// Bots of this user running now.
    bots_active: i64,
}

/// `data` of `users/list`.
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct PartnerUsersPage {
    /// The users, newest first.
    items: Vec<PartnerUserData>,
    /// The token of the next page, to pass back as `nextPageId`; null on the last page.
    next_page_id: Option<String>,
}

/// Success envelope of `users/list`.
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct UsersPageEnvelope {
    /// `true`.
    is_success: bool,
    /// 0.
    code: u16,
    /// Empty.
    message: String,
    /// One page.
    data: PartnerUsersPage,
}

/// Success envelope of `users/get`.
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct UserEnvelope {
    /// `true`.
    is_success: bool,
    /// 0.
    code: u16,
    /// Empty.
    message: String,
    /// The user.
    data: PartnerUserData,
}

/// `POST /users/get` and `POST /users/delete` (reference 003).
#[derive(ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UserIdBody {
    /// One of the partner's users (an id that is not answers 404, code 1001).
    #[schema(format = Uuid)]
    user_id: String,
}

/// `POST /users/create` (reference 003). The keys are sealed in the fetcher's store and never
/// returned.
#[derive(ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateUserBody {
    /// An exchange of `GET /exchanges` (exact match).
    #[schema(min_length = 1, max_length = 64)]
    exchange_id: String,
    /// The exchange API public key (at most 1024 bytes). Use `"sim"` for simulated/paper
    /// trading accounts: then nothing is stored and `secretKey` may be any non-empty text.
    #[schema(min_length = 1, max_length = 1024)]
    public_key: String,
    /// The exchange API secret key (at most 1024 bytes).
    #[schema(min_length = 1, max_length = 1024)]
    secret_key: String,
    /// The passphrase some exchanges need (at most 1024 bytes).
    #[schema(max_length = 1024)]
    extra_key: Option<String>,
    /// The partner's own id of the user on the exchange; empty is stored as absent. No
    /// control characters.
    #[schema(max_length = 128, pattern = "^[^\\u0000-\\u001F\\u007F-\\u009F]*$")]
    exchange_user_id: Option<String>,
}

/// Success envelope of `users/create`.
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct UserIdEnvelope {
    /// `true`.
    is_success: bool,
    /// 0.
    code: u16,
    /// Empty.
    message: String,
    /// The new user's id.
    #[schema(format = Uuid)]
    data: String,
}

/// A user as the examples show it.
fn user() -> serde_json::Value {
    serde_json::json!({
        "userId": "696c712e-346b-4631-9df8-38fe59211493", "exchangeId": "SIM", "exchangeUserId": "customer-42",
        "createdAt": 1766069766, "botsStarted": 2, "botsActive": 1
    })
}

/// A reply of `users/list`.
pub fn users_page_example() -> serde_json::Value {
    serde_json::json!({"isSuccess": true, "code": 0, "message": "",
        "data": {"items": [user()], "nextPageId": "MTc2NjA2OTc2NjAwMDAwMF82OTZjNzEyZS0zNDZiLTQ2MzEtOWRmOC0zOGZlNTkyMTE0OTM"}})
}

/// A reply of `users/get`.
pub fn user_example() -> serde_json::Value {
    serde_json::json!({"isSuccess": true, "code": 0, "message": "", "data": user()})
}

fn user_errors(extra: &[(&str, RefOr<Response>)]) -> BTreeMap<String, RefOr<Response>> {
    let mut responses = errors(&[400, 401, 413, 500]);
    responses.insert("503".into(), described("Code 9503: the ledger is unavailable", &[9503]));
    for (status, response) in extra {
        responses.insert((*status).to_string(), response.clone());
    }
    responses
}

fn unknown_user() -> RefOr<Response> {
    described("Code 1001: unknown user (another partner's user, or an id that is not a UUID, too)", &[1001])
}

/// Errors of `users/list`.
pub struct ListErrors;

impl IntoResponses for ListErrors {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        user_errors(&[(
            "400",
            described(
                "Code 1000: invalid JSON, an unknown field, a `limit` that is not -1 or 1 to 10000, or a \
                 `nextPageId` that is not a token the API handed out",
                &[1000],
            ),
        )])
    }
}

/// Errors of `users/get`.
pub struct GetErrors;

impl IntoResponses for GetErrors {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        user_errors(&[("404", unknown_user())])
    }
}

/// Errors of `users/create`.
pub struct CreateErrors;

impl IntoResponses for CreateErrors {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        user_errors(&[
            (
                "400",
                described(
                    "Code 1000: validation failed, the message names the field (never a key's value); an \
                     `exchangeId` that is not an enabled exchange: `exchangeId: unknown exchange '<id>'`",
                    &[1000],
                ),
            ),
            ("409", described("Code 1003: a request with this Idempotency-Key is still being processed", &[1003])),
            ("422", described("Code 1011: Idempotency-Key reused with another body", &[1011])),
            ("503", described("Code 9503: the ledger or the fetcher's credential store is unavailable", &[9503])),
        ])
    }
}

/// Errors of `users/delete`.
pub struct DeleteErrors;

impl IntoResponses for DeleteErrors {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        user_errors(&[
            ("404", unknown_user()),
            (
                "409",
                described(
                    "Code 1003: the user has running bots (stop them first), or a request with this \
                     Idempotency-Key is still being processed",
                    &[1003],
                ),
            ),
            ("422", described("Code 1011: Idempotency-Key reused with another body", &[1011])),
        ])
    }
}
