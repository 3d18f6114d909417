//! A partner's users (reference 003, docs/api/partner.md#users): list, get, create, delete.
//! The ledger keeps the users; the exchange API keys of a new user go to the fetcher's sealed
//! store and nowhere else (never logged, never in an error message, never to the ledger).

use super::auth::authenticate;
use super::docs::users as docs;
use super::errors::{PartnerApiError, idempotency, replayable, success, success_of};
use super::fields::{body_object, invalid, optional_string, required_string};
use super::paging;
use crate::state::AppState;
use actix_web::{HttpRequest, HttpResponse, web};
use bus::messages::bot_api::paging::TimeCursor;
use bus::messages::credentials::StoreExchangeCredentials;
use bus::messages::idempotency::{Command, IdempotencyKey};
use bus::messages::partner::reference::ListExchanges;
use bus::messages::partner::{CreatePartnerUser, DeletePartnerUser, GetPartnerUser, ListPartnerUsers};
use bus::{BusError, RequestError};
use domain::{BrokerAccountId, PartnerId, Secret, UserId};
use sha2::{Digest, Sha256};
use uuid::Uuid;

/// The longest `exchangeId`, in characters.
pub const MAX_EXCHANGE_ID_CHARS: usize = 64;

/// The longest `publicKey`, `secretKey` or `extraKey`, in bytes.
pub const MAX_KEY_BYTES: usize = 1024;

/// The longest `exchangeUserId`, in characters.
pub const MAX_EXCHANGE_USER_ID_CHARS: usize = 128;

/// The `publicKey` of a paper account: nothing is stored in the fetcher.
pub const PAPER_PUBLIC_KEY: &str = "sim";

/// The namespace of the broker account ids derived from an `Idempotency-Key`.
const BROKER_ACCOUNT_NAMESPACE: Uuid = Uuid::from_u128(0x5d1f_4c8e_9a0b_4e2f_8c61_3b7a_d2e9_f014);

const CREATE_FIELDS: [&str; 5] = ["exchangeId", "publicKey", "secretKey", "extraKey", "exchangeUserId"];

fn unknown_user(id: &str) -> PartnerApiError {
    PartnerApiError::UnknownUser(format!("User '{id}' not found"))
}

/// Reads `{userId}`: a required non-empty string; one that is not a UUID names no user (1001).
/// Returns the id and the text as sent (messages name the user as the client wrote it).
pub fn parse_user_id(body: &[u8]) -> Result<(UserId, String), PartnerApiError> {
    let object = body_object(body, &["userId"])?;
    let sent = required_string(&object, "userId")?;
    let id = sent.parse().map_err(|_| unknown_user(&sent))?;
    Ok((id, sent))
}

/// A ledger refusal about the user the client named `sent`: an unknown user is named as sent.
fn user_failure(failure: RequestError, sent: &str) -> PartnerApiError {
    match PartnerApiError::from_user_request(failure) {
        PartnerApiError::UnknownUser(_) => unknown_user(sent),
        other => other,
    }
}

/// A page of the partner's users, newest first: `data` is `{items, nextPageId}`.
#[utoipa::path(post, path = "/partner/v1/users/list", tag = "partner-api",
    params(("x-api-key" = String, Header, description = "The partner's key")),
    request_body(content = Option<docs::ListUsersBody>, example = json!({"limit": 5, "nextPageId": ""})),
    responses(
        (status = 200, description = "`data`: `{items, nextPageId}`. A page ends at `limit` items or near 256 KiB, \
            whichever comes first; `nextPageId` is non-null while more remain", body = docs::UsersPageEnvelope,
            example = json!(docs::users_page_example())),
        docs::ListErrors))]
pub async fn list(
    request: HttpRequest,
    body: web::Bytes,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PartnerApiError> {
    let partner_id = authenticate(&request, &state).await?;
    let page = paging::parse::<TimeCursor>(&body)?;
    let query = ListPartnerUsers { partner_id, limit: page.limit, after: page.after };
    let reply = bus::request_raw(&state.nats, &state.subjects.partner_users(), &query, state.backend_timeout())
        .await
        .map_err(PartnerApiError::from_user_request)?;
    Ok(success(reply.get()))
}

/// One of the partner's users: `data` is `{userId, exchangeId, exchangeUserId, createdAt,
/// botsStarted, botsActive}`.
#[utoipa::path(post, path = "/partner/v1/users/get", tag = "partner-api",
    params(("x-api-key" = String, Header, description = "The partner's key")),
    request_body(content = docs::UserIdBody, example = json!({"userId": "696c712e-346b-4631-9df8-38fe59211493"})),
    responses(
        (status = 200, description = "`data`: the user", body = docs::UserEnvelope, example = json!(docs::user_example())),
        docs::GetErrors))]
pub async fn get(
    request: HttpRequest,
    body: web::Bytes,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PartnerApiError> {
    let partner_id = authenticate(&request, &state).await?;
    let (user_id, sent) = parse_user_id(&body)?;
    let query = GetPartnerUser { partner_id, user_id };
    let found = bus::request(&state.nats, &state.subjects.partner_user(), &query, state.backend_timeout())
        .await
        .map_err(|failure| user_failure(failure, &sent))?;
    success_of(&found.user)
}

/// The body of `users/create`, checked. The keys are [`Secret`]s from here on: their `Debug`
/// hides them.
#[derive(Debug, PartialEq, Eq)]
pub struct CreateUser {
    /// The exchange, as sent (matched exactly against the catalogue).
    pub exchange_id: String,
    /// The exchange API public key, or `sim` for a paper account.
    pub public_key: Secret,
    /// The exchange API secret key.
    pub secret_key: Secret,
    /// The passphrase some exchanges need.
    pub extra_key: Option<Secret>,
    /// The partner's own id of the user; `None` when null or empty.
    pub exchange_user_id: Option<String>,
}

impl CreateUser {
    /// A paper (simulated) account: nothing to store in the fetcher.
    pub fn paper(&self) -> bool {
        self.public_key.expose() == PAPER_PUBLIC_KEY
    }
}

/// Checks the body of `users/create` in the reference's field order. No message holds a key.
pub fn parse_create(body: &[u8]) -> Result<CreateUser, PartnerApiError> {
    let object = body_object(body, &CREATE_FIELDS)?;
    let exchange_id = required_string(&object, "exchangeId")?;
    if exchange_id.chars().count() > MAX_EXCHANGE_ID_CHARS {
        return Err(invalid(format!("exchangeId must be at most {MAX_EXCHANGE_ID_CHARS} characters")));
    }
    let key_length = |name: &str, key: &str| -> Result<(), PartnerApiError> {
        if key.len() > MAX_KEY_BYTES {
            return Err(invalid(format!("{name} must be at most {MAX_KEY_BYTES} bytes")));
        }
        Ok(())
    };
    let public_key = required_string(&object, "publicKey")?;
    key_length("publicKey", &public_key)?;
    let secret_key = required_string(&object, "secretKey")?;
    key_length("secretKey", &secret_key)?;
    let extra_key = optional_string(&object, "extraKey")?;
    if let Some(extra_key) = &extra_key {
        key_length("extraKey", extra_key)?;
    }
    let exchange_user_id = optional_string(&object, "exchangeUserId")?.filter(|id| !id.is_empty());
    if exchange_user_id.as_ref().is_some_and(|id| id.chars().count() > MAX_EXCHANGE_USER_ID_CHARS) {
        return Err(invalid(format!("exchangeUserId must be at most {MAX_EXCHANGE_USER_ID_CHARS} characters")));
    }
    // It is stored as text, which cannot hold NUL, and shown back: no control characters.
    if exchange_user_id.as_ref().is_some_and(|id| id.chars().any(char::is_control)) {
        return Err(invalid("exchangeUserId must not contain control characters"));
    }
    Ok(CreateUser {
        exchange_id,
        public_key: Secret::new(public_key),
        secret_key: Secret::new(secret_key),
        extra_key: extra_key.map(Secret::new),
        exchange_user_id,
    })
}

/// The broker account the new user's credentials are sealed under. Without an
/// `Idempotency-Key`, a fresh one. With one, a name-based id of (partner, key, request hash):
/// a replay of the same request stores the same keys again under the same id (the fetcher
/// upserts), so a retry after a timeout leaves one sealed row. The same key with another body
/// gets another id: that request then fails with 1011 at the ledger and leaves only an orphan
/// sealed row (no account points at it), instead of overwriting the first user's keys.
///
/// The id is a UUID v8 (RFC 9562's custom version) of the first 16 bytes of SHA-256 over the
/// namespace and the name; SHA-256 rather than v5's SHA-1, which the workspace does not build.
pub fn broker_account_id(partner_id: PartnerId, idempotency: Option<&IdempotencyKey>) -> BrokerAccountId {
    let Some(idempotency) = idempotency else { return BrokerAccountId::new() };
    let mut hasher = Sha256::new();
    hasher.update(BROKER_ACCOUNT_NAMESPACE.as_bytes());
    hasher.update(partner_id.as_uuid().as_bytes());
    // Length-prefixed, so no two (key, hash) pairs write the same bytes.
    hasher.update((idempotency.key.len() as u64).to_be_bytes());
    hasher.update(idempotency.key.as_bytes());
    hasher.update(idempotency.request_hash.as_bytes());
    let digest = hasher.finalize();
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    BrokerAccountId::from_uuid(uuid::Builder::from_custom_bytes(bytes).into_uuid())
}

/// A refusal of the fetcher's credential store. Its message is forwarded only when it quotes
/// none of the keys.
fn store_failure(failure: RequestError) -> PartnerApiError {
    match failure {
        // The body was checked by the same rules before it was sent, so this is rare; the
        // store's own words are not forwarded, since no one can promise they quote no key.
        RequestError::Rejected(BusError::Invalid { .. }) => {
            invalid("publicKey, secretKey or extraKey was refused by the credential store")
        }
        // A replay of a create whose user was deleted since: its keys are not stored again.
        RequestError::Rejected(BusError::NotFound { .. }) => {
            PartnerApiError::UnknownUser("The user this request created has been deleted".to_string())
        }
        other => PartnerApiError::common(other),
    }
}

/// Create a user with one account on an exchange, its API keys sealed in the fetcher's store
/// (`publicKey` `sim`: a paper account, nothing stored). `data` is the new user's id. With
/// `Idempotency-Key`, a repeat of the same body answers the same id and creates nothing.
#[utoipa::path(post, path = "/partner/v1/users/create", tag = "partner-api",
    params(("x-api-key" = String, Header, description = "The partner's key"),
        crate::api::bot::docs::IdempotencyKeyHeader),
    request_body(content = docs::CreateUserBody, example = json!({"exchangeId": "SIM", "publicKey": "sim",
        "secretKey": "sim", "extraKey": null, "exchangeUserId": "customer-42"})),
    responses(
        (status = 200, description = "`data`: the new user's id", body = docs::UserIdEnvelope,
            example = json!({"isSuccess": true, "code": 0, "message": "", "data": "696c712e-346b-4631-9df8-38fe59211493"})),
        docs::CreateErrors))]
pub async fn create(
    request: HttpRequest,
    body: web::Bytes,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PartnerApiError> {
    let partner_id = authenticate(&request, &state).await?;
    let user = parse_create(&body)?;
    let idempotency = idempotency(&request, &body)?;
    let exchanges = bus::request(&state.nats, &state.subjects.exchanges(), &ListExchanges {}, state.backend_timeout())
        .await
        .map_err(PartnerApiError::common)?;
    if !exchanges.iter().any(|exchange| exchange.id == user.exchange_id) {
        return Err(invalid(format!("exchangeId: unknown exchange '{}'", user.exchange_id)));
    }
    let broker_account_id = broker_account_id(partner_id, idempotency.as_ref());
    let paper = user.paper();
    if !paper {
        let store = StoreExchangeCredentials {
            broker_account_id,
            exchange_id: user.exchange_id.clone(),
            public_key: user.public_key.clone(),
            secret_key: user.secret_key.clone(),
            extra_key: user.extra_key.clone(),
        };
        bus::request(&state.nats, &state.subjects.store_exchange_credentials(), &store, state.backend_timeout())
            .await
            .map_err(store_failure)?;
    }
    let command = Command {
        idempotency,
        command: CreatePartnerUser {
            partner_id,
            exchange_id: user.exchange_id,
            exchange_user_id: user.exchange_user_id,
            broker_account_id,
            paper,
        },
    };
    let reply = bus::request(&state.nats, &state.subjects.create_partner_user(), &command, state.backend_timeout())
        .await
        .map_err(PartnerApiError::from_user_request)?;
    replayable(reply)
}

/// Delete a user (soft: their history stays; their exchange keys are erased). The user must
/// not have running bots. `data` is `true`.
#[utoipa::path(post, path = "/partner/v1/users/delete", tag = "partner-api",
    params(("x-api-key" = String, Header, description = "The partner's key"),
        crate::api::bot::docs::IdempotencyKeyHeader),
    request_body(content = docs::UserIdBody, example = json!({"userId": "696c712e-346b-4631-9df8-38fe59211493"})),
    responses(
        (status = 200, description = "`data`: `true`", body = super::docs::BoolEnvelope,
            example = json!({"isSuccess": true, "code": 0, "message": "", "data": true})),
        docs::DeleteErrors))]
pub async fn delete(
    request: HttpRequest,
    body: web::Bytes,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PartnerApiError> {
    let partner_id = authenticate(&request, &state).await?;
    let (user_id, sent) = parse_user_id(&body)?;
    let idempotency = idempotency(&request, &body)?;
    let command = Command { idempotency, command: DeletePartnerUser { partner_id, user_id } };
    let reply = bus::request(&state.nats, &state.subjects.delete_partner_user(), &command, state.backend_timeout())
        .await
        .map_err(|failure| user_failure(failure, &sent))?;
    replayable(reply)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(result: Result<impl std::fmt::Debug, PartnerApiError>) -> String {
        match result {
            Err(PartnerApiError::Validation(message)) => message,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_user_id_is_required_and_a_malformed_one_is_an_unknown_user() {
        let id = "696c712e-346b-4631-9df8-38fe59211493";
        assert_eq!(parse_user_id(format!(r#"{{"userId": "{id}"}}"#).as_bytes()).unwrap().0.to_string(), id);
        assert_eq!(error(parse_user_id(b"{")), "Invalid JSON in request body");
        assert_eq!(error(parse_user_id(br#"{"userId": "x", "y": 1}"#)), "Unknown field 'y'");
        for bad in ["{}", r#"{"userId": ""}"#, r#"{"userId": null}"#, r#"{"userId": 5}"#] {
            assert_eq!(error(parse_user_id(bad.as_bytes())), "userId is required and must be a non-empty string");
        }
        assert_eq!(
            parse_user_id(br#"{"userId": "not-a-uuid"}"#),
            Err(PartnerApiError::UnknownUser("User 'not-a-uuid' not found".into()))
        );
    }

    const CREATE: &str =
        r#"{"exchangeId": "BITMEX", "publicKey": "pub", "secretKey": "sec", "extraKey": "", "exchangeUserId": ""}"#;

    fn with(field: &str, value: &str) -> String {
        let mut body: serde_json::Value = serde_json::from_str(CREATE).unwrap();
        match value {
            "<absent>" => body.as_object_mut().unwrap().remove(field),
            _ => body.as_object_mut().unwrap().insert(field.into(), serde_json::from_str(value).unwrap()),
        };
        body.to_string()
    }

    #[test]
    fn the_create_body_is_checked_in_the_reference_order() {
        let user = parse_create(CREATE.as_bytes()).unwrap();
        assert_eq!(user.exchange_id, "BITMEX");
        assert_eq!((user.public_key.expose(), user.secret_key.expose()), ("pub", "sec"));
        assert_eq!(user.extra_key.as_ref().map(Secret::expose), Some(""));
        assert_eq!(user.exchange_user_id, None, "empty is absent");
        assert!(!user.paper());
        let minimal = parse_create(br#"{"exchangeId": "SIM", "publicKey": "sim", "secretKey": "x"}"#).unwrap();
        assert!(minimal.paper());
        assert_eq!((minimal.extra_key, minimal.exchange_user_id), (None, None));
        let named = parse_create(with("exchangeUserId", r#""customer-42""#).as_bytes()).unwrap();
        assert_eq!(named.exchange_user_id.as_deref(), Some("customer-42"));

        assert_eq!(error(parse_create(b"nope")), "Invalid JSON in request body");
        assert_eq!(error(parse_create(b"[]")), "The request body must be a JSON object");
        assert_eq!(error(parse_create(with("apiKey", "1").as_bytes())), "Unknown field 'apiKey'");
        for field in ["exchangeId", "publicKey", "secretKey"] {
            for bad in ["<absent>", r#""""#, "null", "7", "{}"] {
                assert_eq!(
                    error(parse_create(with(field, bad).as_bytes())),
                    format!("{field} is required and must be a non-empty string"),
                    "{field} {bad}"
                );
            }
        }
        assert_eq!(
            error(parse_create(r#"{"secretKey": 1, "publicKey": 1}"#.as_bytes())),
            "exchangeId is required and must be a non-empty string",
            "the first field in the reference's order is named"
        );
        for field in ["extraKey", "exchangeUserId"] {
            assert_eq!(error(parse_create(with(field, "1").as_bytes())), format!("{field} must be a string or null"));
            assert!(parse_create(with(field, "null").as_bytes()).is_ok());
        }
    }

    #[test]
    fn lengths_are_bounded_naming_the_field() {
        let long = |n: usize| format!("\"{}\"", "é".repeat(n));
        assert!(parse_create(with("exchangeId", &long(64)).as_bytes()).is_ok());
        assert_eq!(
            error(parse_create(with("exchangeId", &long(65)).as_bytes())),
            "exchangeId must be at most 64 characters"
        );
        assert!(parse_create(with("exchangeUserId", &long(128)).as_bytes()).is_ok());
        assert_eq!(
            error(parse_create(with("exchangeUserId", &long(129)).as_bytes())),
            "exchangeUserId must be at most 128 characters"
        );
        for field in ["publicKey", "secretKey", "extraKey"] {
            assert!(parse_create(with(field, &format!("\"{}\"", "k".repeat(1024))).as_bytes()).is_ok());
            // 513 two-byte characters: 1026 bytes.
            assert_eq!(
                error(parse_create(with(field, &long(513)).as_bytes())),
                format!("{field} must be at most 1024 bytes")
            );
        }
    }

    #[test]
    fn an_exchange_user_id_holds_no_control_character() {
        for id in [r"a\u0000b", r"a\nb", r"\u007f"] {
            let body =
                format!(r#"{{"exchangeId": "SIM", "publicKey": "sim", "secretKey": "x", "exchangeUserId": "{id}"}}"#);
            assert_eq!(error(parse_create(body.as_bytes())), "exchangeUserId must not contain control characters");
        }
    }

    #[test]
    fn no_message_or_debug_output_holds_a_key() {
        let secret = "s3cr3t-value-that-must-not-leak";
        let body = format!(r#"{{"exchangeId": "BITMEX", "publicKey": "{secret}", "secretKey": "{secret}"}}"#);
        let user = parse_create(body.as_bytes()).unwrap();
        assert!(!format!("{user:?}").contains(secret));
        // The store's words are never forwarded, whatever they quote.
        let echoed = RequestError::Rejected(BusError::invalid(format!("bad key {secret}")));
        let message = error(Err::<(), _>(store_failure(echoed)));
        assert_eq!(message, "publicKey, secretKey or extraKey was refused by the credential store");
        let erased = RequestError::Rejected(BusError::not_found("The user of broker account x was deleted"));
        assert!(matches!(store_failure(erased), PartnerApiError::UnknownUser(_)));
        let bad_long = with("secretKey", &format!("\"{}\"", "k".repeat(2000)));
        assert!(!error(parse_create(bad_long.as_bytes())).contains("kkkk"));
    }

    #[test]
    fn broker_accounts_are_fresh_or_derived_from_the_idempotency_key_and_body() {
        let partner = PartnerId::from_uuid(Uuid::from_u128(7));
        let key = |key: &str, hash: &str| IdempotencyKey { key: key.into(), request_hash: hash.into() };
        assert_ne!(broker_account_id(partner, None), broker_account_id(partner, None));
        let first = broker_account_id(partner, Some(&key("k", "h1")));
        assert_eq!(first, broker_account_id(partner, Some(&key("k", "h1"))), "a replay reaches the same row");
        assert_eq!(first.as_uuid().get_version_num(), 8);
        assert_ne!(first, broker_account_id(partner, Some(&key("k", "h2"))), "another body, another row");
        assert_ne!(first, broker_account_id(partner, Some(&key("k2", "h1"))));
        assert_ne!(first, broker_account_id(PartnerId::new(), Some(&key("k", "h1"))));
    }
}
