//! Shapes of the hosted bot routes (`bots/list`, `bots/user`, `bots/get`, `bots/create`,
//! `bots/edit`, `bots/copy`, `bots/start`, `bots/stop`, `bots/delete`) for the OpenAPI
//! document. Requests are parsed field by field (`bots::parse`) and the ledger writes the
//! bots, so these types only describe them.

use super::{ScriptType, described, errors};
use std::collections::BTreeMap;
use utoipa::openapi::schema::{ObjectBuilder, OneOfBuilder, Schema, Type};
use utoipa::openapi::{RefOr, Response};
use utoipa::{IntoResponses, ToSchema};

/// `POST /bots/list` (reference 003). The body may be empty (or `null`): the first page of
/// 10,000.
#[derive(ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ListBotsBody {
    /// Bots in one page: -1 (the default) means 10,000, else 1 to 10,000 (0 is refused). A
    /// page also ends near 256 KiB, so it may hold fewer.
    #[schema(schema_with = page_limit)]
    limit: Option<i32>,
    /// The `nextPageId` of the previous page, as it came; absent, null or empty for the first.
    next_page_id: Option<String>,
}

/// `POST /bots/user` (reference 003): one user's bots.
#[derive(ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UserBotsBody {
    /// One of the partner's users (an id that is not answers 404, code 1001).
    #[schema(format = Uuid)]
    user_id: String,
    /// Bots in one page: -1 (the default) means 10,000, else 1 to 10,000 (0 is refused). A
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

/// `POST /bots/get` (reference 003). The user is checked before the bot.
#[derive(ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BotRefBody {
    /// The bot's owner, one of the partner's users (else 404, code 1001).
    #[schema(format = Uuid)]
    user_id: String,
    /// The bot: 32 hex digits (dashed accepted); a malformed or unknown id, or a bot that is
    /// not this user's, answers 404, code 1002.
    #[schema(min_length = 1)]
    bot_id: String,
}

/// `POST /bots/create` (reference 003).
#[derive(ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateBotBody {
    /// The owner, one of the partner's users (else 404, code 1001).
    #[schema(format = Uuid)]
    user_id: String,
    /// The bot type.
    #[serde(rename = "type")]
    script_type: ScriptType,
    /// The bot's settings, as `GET /scripts` describes them for the type (`symbol` a market of
    /// `GET /markets` on the user's exchange). Omitted settings take their defaults; an unknown
    /// key answers `Unknown field 'settings.<key>'`, a bad value `settings.<key>: <reason>`,
    /// the webhook's backtest-only `signals` `settings.signals: a backtest-only setting` (400,
    /// code 1000).
    #[schema(value_type = Object)]
    settings: String,
    /// A bot to follow: the new bot follows its root master (same type required, else
    /// `masterBotId: type differs`); null or `""` for none. An unknown one answers 404, code
    /// 1002.
    master_bot_id: Option<String>,
}

/// `POST /bots/edit` (reference 003).
#[derive(ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EditBotBody {
    /// The bot's owner (else 404, code 1001).
    #[schema(format = Uuid)]
    user_id: String,
    /// The bot (else 404, code 1002).
    #[schema(min_length = 1)]
    bot_id: String,
    /// The settings to change, merged into the stored ones. A key the script does not mark
    /// `canBeEdited` answers `settings.<key> cannot be edited` when it changes (400, code 1000).
    #[schema(value_type = Object)]
    settings: String,
}

/// `POST /bots/copy` (reference 003).
#[derive(ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CopyBotBody {
    /// The user who receives the copy, on the same exchange as the bot (else 400, code 1004).
    #[schema(format = Uuid)]
    user_id: String,
    /// The bot to copy (any of the partner's users' bots; else 404, code 1002).
    #[schema(min_length = 1)]
    bot_id: String,
    /// Make the copy a follower of the bot's root master: the master's edits reach it.
    follow_updates: bool,
    /// Settings merged over the bot's, checked like a create's; `{}` or null for none. The
    /// reference's example override `orderSize` is no spot grid setting and answers 400, code
    /// 1000, `Unknown field 'settings.orderSize'`.
    #[schema(value_type = Option<Object>, required = true)]
    settings: Option<String>,
}

/// `POST /bots/start`, `POST /bots/stop` and `POST /bots/delete` (reference 003).
#[derive(ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BotIdBody {
    /// One of the partner's bots: 32 hex digits (dashed accepted); a malformed or unknown id
    /// answers 404, code 1002.
    #[schema(min_length = 1)]
    bot_id: String,
}

/// A hosted bot's desired state.
#[derive(ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum BotStatus {
    /// Trading.
    Running,
    /// Not trading; positions and history kept.
    Stopped,
}

/// A hosted bot (reference 003).
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct PartnerHostedBot {
    /// The owner.
    #[schema(format = Uuid)]
    user_id: String,
    /// The bot's id: 32 lowercase hex digits.
    #[schema(pattern = "^[0-9a-f]{32}$")]
    bot_id: String,
    /// `running` or `stopped`.
    status: BotStatus,
    /// The root master's `botId` when the bot follows one, else `""`.
    #[schema(pattern = "^([0-9a-f]{32})?$")]
    master_bot_id: String,
    /// When it was created, unix seconds.
    created_at: i64,
    /// The bot type.
    #[serde(rename = "type")]
    script_type: ScriptType,
    /// The exchange of `settings.symbol`'s market.
    exchange_id: String,
    /// Every setting of the type, defaults filled in, numbers as JSON numbers.
    #[schema(value_type = Object)]
    settings: String,
    /// Realized profit net of fees, in the quote currency (0 until live trading lands).
    profit: f64,
    /// `profit` over the starting equity, in percent (0 until live trading lands).
    roi: f64,
    /// Copies ever made of it.
    cloned: i64,
    /// Live bots that follow it.
    followers: i64,
}

/// `data` of `bots/list` and `bots/user`.
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct PartnerHostedBotsPage {
    /// The bots, newest first.
    items: Vec<PartnerHostedBot>,
    /// The token of the next page, to pass back as `nextPageId`; null on the last page.
    next_page_id: Option<String>,
}

/// Success envelope of `bots/list` and `bots/user`.
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct BotsPageEnvelope {
    /// `true`.
    is_success: bool,
    /// 0.
    code: u16,
    /// Empty.
    message: String,
    /// One page.
    data: PartnerHostedBotsPage,
}

/// Success envelope of `bots/get`, `bots/create` and `bots/copy`.
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct BotEnvelope {
    /// `true`.
    is_success: bool,
    /// 0.
    code: u16,
    /// Empty.
    message: String,
    /// The bot.
    data: PartnerHostedBot,
}

/// The example bot's settings, as the ledger fills them in.
fn settings() -> serde_json::Value {
    serde_json::json!({
        "symbol": "SIM_BTC_USDT_", "lowerLimit": 28000, "upperLimit": 31000, "gridMode": "Arithmetic",
        "gridCount": 30, "investmentAsset": "Quote", "investmentAmount": 9900, "tradeToFillGrid": false,
        "startCondition": "Instant", "startType": "Above value", "startValue": 0, "stopCondition": "Manual",
        "stopType": "Above value", "stopValue": 0, "stopExit": false
    })
}

/// The example bot.
fn bot() -> serde_json::Value {
    serde_json::json!({
        "userId": "f873b314-f165-45a0-b658-d15ff37d529a", "botId": "7d7e643ac399492c8adf1add09316abb",
        "status": "running", "masterBotId": "", "createdAt": 1766070000, "type": "spot_grid", "exchangeId": "SIM",
        "settings": settings(), "profit": 0, "roi": 0, "cloned": 1, "followers": 1
    })
}

/// The body of the `bots/create` example (the reference's).
pub fn create_body_example() -> serde_json::Value {
    serde_json::json!({"userId": "f873b314-f165-45a0-b658-d15ff37d529a", "type": "spot_grid", "settings": settings(),
        "masterBotId": null})
}

/// A reply of `bots/get` and `bots/create`.
pub fn bot_example() -> serde_json::Value {
    serde_json::json!({"isSuccess": true, "code": 0, "message": "", "data": bot()})
}

/// A reply of `bots/copy` with `followUpdates` and `{"investmentAmount": 5000}`.
pub fn copy_example() -> serde_json::Value {
    let mut copy = bot();
    copy["userId"] = "696c712e-346b-4631-9df8-38fe59211493".into();
    copy["botId"] = "0c5b9a4e1f2d4c3b8a7e6d5c4b3a2910".into();
    copy["masterBotId"] = "7d7e643ac399492c8adf1add09316abb".into();
    copy["createdAt"] = 1766070600.into();
    copy["settings"]["investmentAmount"] = 5000.into();
    copy["cloned"] = 0.into();
    copy["followers"] = 0.into();
    serde_json::json!({"isSuccess": true, "code": 0, "message": "", "data": copy})
}

/// A reply of `bots/list`.
pub fn bots_page_example() -> serde_json::Value {
    serde_json::json!({"isSuccess": true, "code": 0, "message": "",
        "data": {"items": [bot()], "nextPageId": "MTc2NjA3MDAwMDAwMDAwMF83ZDdlNjQzYS1jMzk5LTQ5MmMtOGFkZi0xYWRkMDkzMTZhYmI"}})
}

/// The shared part: 401, 413, 500, 503 (the ledger), 504, and the route's own.
fn bot_errors(extra: &[(&str, RefOr<Response>)]) -> BTreeMap<String, RefOr<Response>> {
    let mut responses = errors(&[401, 413, 500]);
    responses.insert("503".into(), described("Code 9503: the ledger is unavailable", &[9503]));
    for (status, response) in extra {
        responses.insert((*status).to_string(), response.clone());
    }
    responses
}

fn shape(fields: &str) -> RefOr<Response> {
    described(
        &format!(
            "Code 1000: invalid JSON, an unknown field, or {fields}; the message names the field (a refusal of the \
             ledger too)"
        ),
        &[1000],
    )
}

fn unknown_user_or_bot() -> RefOr<Response> {
    described(
        "Code 1001: unknown user (another partner's, or an id that is not a UUID, too), checked first; code 1002: \
         unknown bot (another partner's, another user's, or a malformed id, too), `Bot '<id>' not found`",
        &[1001, 1002],
    )
}

fn unknown_bot() -> RefOr<Response> {
    described("Code 1002: unknown bot (another partner's, or a malformed id, too), `Bot '<id>' not found`", &[1002])
}

fn in_progress(what: &str) -> RefOr<Response> {
    described(&format!("Code 1003: {what}a request with this Idempotency-Key is still being processed"), &[1003])
}

fn reused() -> RefOr<Response> {
    described("Code 1011: Idempotency-Key reused with another body", &[1011])
}

/// Errors of `bots/list`.
pub struct ListErrors;

impl IntoResponses for ListErrors {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        bot_errors(&[(
            "400",
            described(
                "Code 1000: invalid JSON, an unknown field, a `limit` that is not -1 or 1 to 10000, or a \
                 `nextPageId` that is not a token the API handed out",
                &[1000],
            ),
        )])
    }
}

/// Errors of `bots/user`.
pub struct UserListErrors;

impl IntoResponses for UserListErrors {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        bot_errors(&[
            (
                "400",
                described(
                    "Code 1000: invalid JSON, an unknown field, `userId` missing or not a string, a `limit` that \
                     is not -1 or 1 to 10000, or a `nextPageId` that is not a token the API handed out",
                    &[1000],
                ),
            ),
            (
                "404",
                described(
                    "Code 1001: unknown user (another partner's user, or an id that is not a UUID, too)",
                    &[1001],
                ),
            ),
        ])
    }
}

/// Errors of `bots/get`.
pub struct GetErrors;

impl IntoResponses for GetErrors {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        bot_errors(&[("400", shape("`userId` or `botId` missing or not a string")), ("404", unknown_user_or_bot())])
    }
}

/// Errors of `bots/create`.
pub struct CreateErrors;

impl IntoResponses for CreateErrors {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        bot_errors(&[
            (
                "400",
                described(
                    "Code 1000: validation failed, the message names the field: `type must be one of ...`, \
                     `settings is required and must be an object`, `Unknown field 'settings.x'`, \
                     `settings.<key>: <reason>`, `settings.symbol: unknown market 'X'`, `settings.signalToken is \
                     required`, `settings.signals: a backtest-only setting`, `masterBotId: type differs`, \
                     `exchangeId: bots cannot run on exchange 'X' (no trading adapter)`; code 1004: the market's \
                     exchange is not the user's (`exchangeId '<X>' is not the exchange of user '<id>' ...`)",
                    &[1000, 1004],
                ),
            ),
            (
                "404",
                described(
                    "Code 1001: unknown user (another partner's, or an id that is not a UUID, too); code 1002: an \
                     unknown `masterBotId`",
                    &[1001, 1002],
                ),
            ),
            ("409", in_progress("")),
            ("422", reused()),
        ])
    }
}

/// Errors of `bots/edit`.
pub struct EditErrors;

impl IntoResponses for EditErrors {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        bot_errors(&[
            (
                "400",
                shape(
                    "`userId`, `botId` or `settings` missing or of another type; `Unknown field 'settings.x'`, \
                     `settings.<key> cannot be edited`, `settings.<key>: <reason>`",
                ),
            ),
            ("404", unknown_user_or_bot()),
            (
                "409",
                described(
                    "Code 1008: `Bot '<id>' follows a master bot and cannot be edited directly` (edit the master); \
                     code 1003: a request with this Idempotency-Key is still being processed",
                    &[1003, 1008],
                ),
            ),
            ("422", reused()),
        ])
    }
}

/// Errors of `bots/copy`.
pub struct CopyErrors;

impl IntoResponses for CopyErrors {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        bot_errors(&[
            (
                "400",
                described(
                    "Code 1000: invalid JSON, an unknown field, `userId` or `botId` missing or not a string, \
                     `followUpdates` missing or not a boolean, `settings` missing or neither an object nor null, or \
                     settings the ledger refuses as on a create (`Unknown field 'settings.orderSize'`); code 1004: \
                     the user is not on the bot's exchange",
                    &[1000, 1004],
                ),
            ),
            ("404", unknown_user_or_bot()),
            ("409", in_progress("")),
            ("422", reused()),
        ])
    }
}

/// Errors of `bots/start`.
pub struct StartErrors;

impl IntoResponses for StartErrors {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        bot_errors(&[
            (
                "400",
                shape(
                    "`botId` missing or not a string; `exchangeId: bots cannot run on exchange 'X' (no trading \
                     adapter)`",
                ),
            ),
            ("404", unknown_bot()),
            ("409", in_progress("`Bot '<id>' is already running`; ")),
            ("422", reused()),
        ])
    }
}

/// Errors of `bots/stop`.
pub struct StopErrors;

impl IntoResponses for StopErrors {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        bot_errors(&[
            ("400", shape("`botId` missing or not a string")),
            ("404", unknown_bot()),
            ("409", in_progress("`Bot '<id>' is already stopped`; ")),
            ("422", reused()),
        ])
    }
}

/// Errors of `bots/delete`.
pub struct DeleteErrors;

impl IntoResponses for DeleteErrors {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        bot_errors(&[
            ("400", shape("`botId` missing or not a string")),
            ("404", unknown_bot()),
            ("409", in_progress("")),
            ("422", reused()),
        ])
    }
}
