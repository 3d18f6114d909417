//! Reading the bodies of the `bots/...` routes into the ledger's requests. The gateway checks
//! only the shape, in the LIVE order (docs/live.md#partner-api): JSON → unknown fields → the
//! required fields and their types in the reference's field order → (a preview: a type that
//! is not a grid, 1005) → `userId` (one that is not a UUID names no user: 1001). The rest (the bot, its state, the market, the settings) is the
//! ledger's: bot ids travel as the strings the client sent, settings byte for byte.

use crate::api::json::{self, Kind, Object};
use crate::api::partner::errors::PartnerApiError;
use crate::api::partner::fields::{body_object, invalid, required_string};
use crate::api::partner::paging::{self, ClosedPositionCursor, LineCursor, PageRequest};
use crate::api::partner::reference::TYPE_MESSAGE;
use bus::messages::bot_api::paging::TimeCursor;
use bus::messages::hosted::{
    CheckHostedBot, CopyHostedBot, CreateHostedBot, DeleteHostedBot, Desired, EditHostedBot, GetHostedBot,
    ListHostedBots, SetHostedBotStatus,
};
use bus::messages::live;
use domain::{PartnerId, UserId};
use engine::scripts::ScriptType;
use rust_decimal::prelude::ToPrimitive;
use serde_json::value::RawValue;

/// The message of a missing or non-object `settings` (create, edit).
pub const SETTINGS_MESSAGE: &str = "settings is required and must be an object";

/// The message of a missing `settings` of a copy, or one that is neither an object nor null.
pub const COPY_SETTINGS_MESSAGE: &str = "settings is required and must be an object or null";

/// The message of a missing or non-boolean `followUpdates`.
pub const FOLLOW_UPDATES_MESSAGE: &str = "followUpdates is required and must be a boolean";

/// The message of an `offset` of `bots/logs` that is not an integer from 0 (int32).
pub const OFFSET_MESSAGE: &str = "offset must be an integer between 0 and 2147483647";

/// The message of a non-zero `offset` of `bots/logs` sent with a `nextPageId`.
pub const OFFSET_WITH_CURSOR_MESSAGE: &str = "offset must be 0 when nextPageId is given";

/// A required JSON object, as it stood in the body.
fn required_object(object: &Object, name: &str, message: &str) -> Result<Box<RawValue>, PartnerApiError> {
    object.get(name).filter(|raw| json::kind(raw) == Kind::Object).cloned().ok_or_else(|| invalid(message))
}

/// A user id the client sent: one that is not a UUID names no user.
fn user_id(id: &str) -> Result<UserId, PartnerApiError> {
    id.parse().map_err(|_| PartnerApiError::UnknownUser(format!("User '{id}' not found")))
}

/// `bots/list`: `{limit?, nextPageId?}`.
pub fn list(partner_id: PartnerId, body: &[u8]) -> Result<ListHostedBots, PartnerApiError> {
    let PageRequest { limit, after } = paging::parse::<TimeCursor>(body)?;
    Ok(ListHostedBots { partner_id, user_id: None, limit, after })
}

/// `bots/user`: `{userId, limit?, nextPageId?}`.
pub fn user_list(partner_id: PartnerId, body: &[u8]) -> Result<ListHostedBots, PartnerApiError> {
    let object = paging::object(body, &["userId"])?;
    let id = required_string(&object, "userId")?;
    let PageRequest { limit, after } = paging::page::<TimeCursor>(&object)?;
    Ok(ListHostedBots { partner_id, user_id: Some(user_id(&id)?), limit, after })
}

/// `bots/get`: `{userId, botId}`.
pub fn get(partner_id: PartnerId, body: &[u8]) -> Result<GetHostedBot, PartnerApiError> {
    let object = body_object(body, &["userId", "botId"])?;
    let id = required_string(&object, "userId")?;
    let bot_id = required_string(&object, "botId")?;
    Ok(GetHostedBot { partner_id, user_id: Some(user_id(&id)?), bot_id })
}

/// A required `type`: one of the five script types (else the message of `scripts/script`).
fn script_type(object: &Object) -> Result<ScriptType, PartnerApiError> {
    object
        .get("type")
        .and_then(|raw| json::as_string(raw))
        .and_then(|name| ScriptType::ALL.into_iter().find(|script| script.as_str() == name))
        .ok_or_else(|| invalid(TYPE_MESSAGE))
}

/// `bots/create`: `{userId, type, settings, masterBotId?}`. `type` must be one of the five
/// script types (the message of `scripts/script`); `masterBotId` null or `""` is none.
pub fn create(partner_id: PartnerId, body: &[u8]) -> Result<CreateHostedBot, PartnerApiError> {
    let object = body_object(body, &["userId", "type", "settings", "masterBotId"])?;
    let id = required_string(&object, "userId")?;
    let script_type = script_type(&object)?.as_str().to_string();
    let settings = required_object(&object, "settings", SETTINGS_MESSAGE)?;
    let master_bot_id = match object.get("masterBotId") {
        None => None,
        Some(raw) if json::kind(raw) == Kind::Null => None,
        Some(raw) => Some(json::as_string(raw).ok_or_else(|| invalid("masterBotId must be a string or null"))?),
    }
    .filter(|id| !id.is_empty());
    Ok(CreateHostedBot { partner_id, user_id: user_id(&id)?, script_type, settings, master_bot_id })
}

/// The refusal of a preview of `script_type`, which is not a grid (1005).
fn preview_unsupported(script_type: ScriptType) -> PartnerApiError {
    PartnerApiError::PreviewUnsupported(format!(
        "Preview is only available for grid bots (spot_grid, futures_grid), not {}",
        script_type.as_str()
    ))
}

/// `bots/preview`: `{userId, exchangeId, type, settings}`, read into the ledger's check of a
/// would-be bot. The shape is checked as a create's (`type` one of the five script types);
/// then a type that is not a grid has no preview (1005), before the user is looked at.
pub fn preview(partner_id: PartnerId, body: &[u8]) -> Result<CheckHostedBot, PartnerApiError> {
    let object = body_object(body, &["userId", "exchangeId", "type", "settings"])?;
    let id = required_string(&object, "userId")?;
    let exchange_id = required_string(&object, "exchangeId")?;
    let script_type = script_type(&object)?;
    let settings = required_object(&object, "settings", SETTINGS_MESSAGE)?;
    if !matches!(script_type, ScriptType::SpotGrid | ScriptType::FuturesGrid) {
        return Err(preview_unsupported(script_type));
    }
    Ok(CheckHostedBot {
        partner_id,
        user_id: user_id(&id)?,
        exchange_id,
        script_type: script_type.as_str().to_string(),
        settings,
    })
}

/// `bots/edit`: `{userId, botId, settings}`.
pub fn edit(partner_id: PartnerId, body: &[u8]) -> Result<EditHostedBot, PartnerApiError> {
    let object = body_object(body, &["userId", "botId", "settings"])?;
    let id = required_string(&object, "userId")?;
    let bot_id = required_string(&object, "botId")?;
    let settings = required_object(&object, "settings", SETTINGS_MESSAGE)?;
    Ok(EditHostedBot { partner_id, user_id: user_id(&id)?, bot_id, settings })
}

/// `bots/copy`: `{userId, botId, followUpdates, settings}`; `settings` must be there, an
/// object (`{}` too) or null (none).
pub fn copy(partner_id: PartnerId, body: &[u8]) -> Result<CopyHostedBot, PartnerApiError> {
    let object = body_object(body, &["userId", "botId", "followUpdates", "settings"])?;
    let id = required_string(&object, "userId")?;
    let bot_id = required_string(&object, "botId")?;
    let follow_updates = match object.get("followUpdates").map(|raw| raw.get()) {
        Some("true") => true,
        Some("false") => false,
        _ => return Err(invalid(FOLLOW_UPDATES_MESSAGE)),
    };
    let settings = match object.get("settings") {
        Some(raw) if json::kind(raw) == Kind::Null => None,
        Some(raw) if json::kind(raw) == Kind::Object => Some(raw.clone()),
        _ => return Err(invalid(COPY_SETTINGS_MESSAGE)),
    };
    Ok(CopyHostedBot { partner_id, user_id: user_id(&id)?, bot_id, follow_updates, settings })
}

/// `bots/start` (`desired` running) and `bots/stop` (stopped): `{botId}`.
pub fn set_status(partner_id: PartnerId, body: &[u8], desired: Desired) -> Result<SetHostedBotStatus, PartnerApiError> {
    let object = body_object(body, &["botId"])?;
    Ok(SetHostedBotStatus { partner_id, bot_id: required_string(&object, "botId")?, desired })
}

/// `bots/delete`: `{botId}`.
pub fn delete(partner_id: PartnerId, body: &[u8]) -> Result<DeleteHostedBot, PartnerApiError> {
    let object = body_object(body, &["botId"])?;
    Ok(DeleteHostedBot { partner_id, bot_id: required_string(&object, "botId")? })
}

/// `bots/orders` and `bots/positions/open`: `{botId}`, read into the ledger's ownership
/// question.
pub fn orders(partner_id: PartnerId, body: &[u8]) -> Result<GetHostedBot, PartnerApiError> {
    let object = body_object(body, &["botId"])?;
    Ok(GetHostedBot { partner_id, user_id: None, bot_id: required_string(&object, "botId")? })
}

/// What a `bots/positions/closed` body asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClosedPositionsQuery {
    /// The ledger's ownership question.
    pub bot: GetHostedBot,
    /// The page continues after this position (newest first); `None` for the first page.
    pub after: Option<live::ClosedPositionCursor>,
    /// At most this many positions.
    pub limit: u32,
}

/// `bots/positions/closed`: `{botId, limit?, nextPageId?}`.
pub fn closed_positions(partner_id: PartnerId, body: &[u8]) -> Result<ClosedPositionsQuery, PartnerApiError> {
    let object = paging::object(body, &["botId"])?;
    let bot_id = required_string(&object, "botId")?;
    let PageRequest { limit, after } = paging::page::<ClosedPositionCursor>(&object)?;
    Ok(ClosedPositionsQuery {
        bot: GetHostedBot { partner_id, user_id: None, bot_id },
        after: after.map(Into::into),
        limit,
    })
}

/// What a `bots/positions/orders` body asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PositionOrdersQuery {
    /// The ledger's ownership question.
    pub bot: GetHostedBot,
    /// The position as sent: the runner judges it (a malformed id names no position: 1012).
    pub position_id: String,
}

/// `bots/positions/orders`: `{botId, positionId}`.
pub fn position_orders(partner_id: PartnerId, body: &[u8]) -> Result<PositionOrdersQuery, PartnerApiError> {
    let object = body_object(body, &["botId", "positionId"])?;
    let bot_id = required_string(&object, "botId")?;
    let position_id = required_string(&object, "positionId")?;
    Ok(PositionOrdersQuery { bot: GetHostedBot { partner_id, user_id: None, bot_id }, position_id })
}

/// What a `bots/logs` body asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogsQuery {
    /// The ledger's ownership question.
    pub bot: GetHostedBot,
    /// The page starts at line `after_line + 1`.
    pub after_line: i64,
    /// At most this many lines.
    pub limit: u32,
}

/// `bots/logs`: `{botId, limit?, nextPageId?, offset?}`. Without a cursor the page starts at
/// line `offset + 1`; with one, after the cursor's line, and `offset` must then be 0 (absent
/// counts as 0).
pub fn logs(partner_id: PartnerId, body: &[u8]) -> Result<LogsQuery, PartnerApiError> {
    let object = paging::object(body, &["botId", "offset"])?;
    let bot_id = required_string(&object, "botId")?;
    let PageRequest { limit, after } = paging::page::<LineCursor>(&object)?;
    let offset = match object.get("offset") {
        None => 0,
        // An integer by value, as JSON Schema counts one (`5`, `5.0`); int32 like the reference.
        Some(raw) => json::as_decimal(raw)
            .filter(|value| value.fract().is_zero())
            .and_then(|value| value.to_i32())
            .filter(|offset| *offset >= 0)
            .ok_or_else(|| invalid(OFFSET_MESSAGE))?,
    };
    let after_line = match after {
        None => i64::from(offset),
        Some(_) if offset != 0 => return Err(invalid(OFFSET_WITH_CURSOR_MESSAGE)),
        Some(cursor) => cursor.line,
    };
    Ok(LogsQuery { bot: GetHostedBot { partner_id, user_id: None, bot_id }, after_line, limit })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::DateTime;
    use serde_json::{Value, json};
    use uuid::Uuid;

    const USER: &str = "f873b314-f165-45a0-b658-d15ff37d529a";
    const BOT: &str = "7d7e643ac399492c8adf1add09316abb";
    const USER_MESSAGE: &str = "userId is required and must be a non-empty string";
    const BOT_MESSAGE: &str = "botId is required and must be a non-empty string";
    const POSITION_MESSAGE: &str = "positionId is required and must be a non-empty string";

    fn partner() -> PartnerId {
        PartnerId::from_uuid(Uuid::from_u128(7))
    }

    fn user() -> UserId {
        USER.parse().unwrap()
    }

    fn error<T: std::fmt::Debug>(result: Result<T, PartnerApiError>) -> String {
        match result {
            Err(PartnerApiError::Validation(message)) => message,
            other => panic!("{other:?}"),
        }
    }

    /// `base` with `field` set to the JSON `value`, or removed for `<absent>`.
    fn with(base: &Value, field: &str, value: &str) -> String {
        let mut body = base.clone();
        match value {
            "<absent>" => body.as_object_mut().unwrap().remove(field),
            _ => body.as_object_mut().unwrap().insert(field.into(), serde_json::from_str(value).unwrap()),
        };
        body.to_string()
    }

    /// The checks every body with an object goes through first.
    fn refuses_bad_json_and_unknown_fields<T: std::fmt::Debug>(parse: impl Fn(&[u8]) -> Result<T, PartnerApiError>) {
        assert_eq!(error(parse(b"{")), "Invalid JSON in request body");
        assert_eq!(error(parse(b"")), "Invalid JSON in request body");
        assert_eq!(error(parse(b"[]")), "The request body must be a JSON object");
        assert_eq!(error(parse(br#"{"nope": 1}"#)), "Unknown field 'nope'", "before any required field");
    }

    #[test]
    fn the_partner_list_is_paged() {
        assert_eq!(
            list(partner(), b"").unwrap(),
            ListHostedBots { partner_id: partner(), user_id: None, limit: 10_000, after: None }
        );
        let cursor = TimeCursor { created_at: DateTime::from_timestamp(1_766_069_766, 0).unwrap(), id: Uuid::nil() };
        let body = format!(r#"{{"limit": 10, "nextPageId": "{}"}}"#, cursor.encode());
        assert_eq!(
            list(partner(), body.as_bytes()).unwrap(),
            ListHostedBots { partner_id: partner(), user_id: None, limit: 10, after: Some(cursor) }
        );
        assert_eq!(list(partner(), br#"{"limit": 10, "nextPageId": ""}"#).unwrap().after, None);
        assert_eq!(error(list(partner(), br#"{"userId": "x"}"#)), "Unknown field 'userId'");
        assert_eq!(error(list(partner(), br#"{"limit": 0}"#)), paging::LIMIT_MESSAGE);
    }

    #[test]
    fn a_users_list_needs_the_user_and_checks_the_page_before_the_id() {
        let body = format!(r#"{{"userId": "{USER}", "limit": 10, "nextPageId": ""}}"#);
        assert_eq!(
            user_list(partner(), body.as_bytes()).unwrap(),
            ListHostedBots { partner_id: partner(), user_id: Some(user()), limit: 10, after: None }
        );
        for bad in ["", "{}", r#"{"userId": ""}"#, r#"{"userId": 1}"#, r#"{"userId": null}"#] {
            assert_eq!(error(user_list(partner(), bad.as_bytes())), USER_MESSAGE, "{bad}");
        }
        assert_eq!(error(user_list(partner(), br#"{"userId": "x", "botId": "y"}"#)), "Unknown field 'botId'");
        assert_eq!(error(user_list(partner(), br#"{"userId": "x", "limit": 0}"#)), paging::LIMIT_MESSAGE);
        assert_eq!(
            user_list(partner(), br#"{"userId": "x"}"#),
            Err(PartnerApiError::UnknownUser("User 'x' not found".into()))
        );
    }

    #[test]
    fn get_names_the_user_then_the_bot_and_keeps_the_bot_id_as_sent() {
        let base = json!({"userId": USER, "botId": BOT});
        assert_eq!(
            get(partner(), base.to_string().as_bytes()).unwrap(),
            GetHostedBot { partner_id: partner(), user_id: Some(user()), bot_id: BOT.into() }
        );
        refuses_bad_json_and_unknown_fields(|body| get(partner(), body));
        for (field, message) in [("userId", USER_MESSAGE), ("botId", BOT_MESSAGE)] {
            for bad in ["<absent>", r#""""#, "null", "5", "{}"] {
                assert_eq!(error(get(partner(), with(&base, field, bad).as_bytes())), message, "{field} {bad}");
            }
        }
        assert_eq!(error(get(partner(), b"{}")), USER_MESSAGE, "the reference's order");
        assert_eq!(error(get(partner(), with(&base, "userId", r#""nope""#).replace(BOT, "").as_bytes())), BOT_MESSAGE);
        // A malformed bot id is the ledger's to refuse (after the user): it travels as sent.
        let dashed = "7d7e643a-c399-492c-8adf-1add09316abb";
        assert_eq!(get(partner(), with(&base, "botId", &format!("\"{dashed}\"")).as_bytes()).unwrap().bot_id, dashed);
        assert_eq!(get(partner(), with(&base, "botId", r#""zz""#).as_bytes()).unwrap().bot_id, "zz");
        assert_eq!(
            get(partner(), with(&base, "userId", r#""nope""#).as_bytes()),
            Err(PartnerApiError::UnknownUser("User 'nope' not found".into()))
        );
    }

    fn create_body() -> Value {
        json!({"userId": USER, "type": "spot_grid", "settings": {"symbol": "SIM_BTC_USDT_", "gridCount": 30},
               "masterBotId": null})
    }

    #[test]
    fn create_forwards_the_settings_byte_for_byte() {
        let body = format!(
            r#"{{"userId": "{USER}", "type": "spot_grid", "settings": {{"lowerLimit": 28000.10, "upperLimit":3.1e4 }}}}"#
        );
        let command = create(partner(), body.as_bytes()).unwrap();
        assert_eq!((command.partner_id, command.user_id), (partner(), user()));
        assert_eq!(command.script_type, "spot_grid");
        assert_eq!(command.settings.get(), r#"{"lowerLimit": 28000.10, "upperLimit":3.1e4 }"#);
        assert_eq!(command.master_bot_id, None);
        for script in ScriptType::ALL {
            let body = with(&create_body(), "type", &format!("\"{}\"", script.as_str()));
            assert_eq!(create(partner(), body.as_bytes()).unwrap().script_type, script.as_str());
        }
        for none in ["null", r#""""#, "<absent>"] {
            let body = with(&create_body(), "masterBotId", none);
            assert_eq!(create(partner(), body.as_bytes()).unwrap().master_bot_id, None, "{none}");
        }
        let body = with(&create_body(), "masterBotId", &format!("\"{BOT}\""));
        assert_eq!(create(partner(), body.as_bytes()).unwrap().master_bot_id.as_deref(), Some(BOT));
    }

    #[test]
    fn create_checks_in_the_reference_order() {
        let base = create_body();
        let create = |body: String| create(partner(), body.as_bytes());
        refuses_bad_json_and_unknown_fields(|body| super::create(partner(), body));
        assert_eq!(error(create(with(&base, "name", "1"))), "Unknown field 'name'");
        for bad in ["<absent>", r#""""#, "null", "5"] {
            assert_eq!(error(create(with(&base, "userId", bad))), USER_MESSAGE, "{bad}");
        }
        for bad in ["<absent>", "null", "1", r#""SPOT_GRID""#, r#""grid""#, r#""""#] {
            assert_eq!(error(create(with(&base, "type", bad))), TYPE_MESSAGE, "{bad}");
        }
        for bad in ["<absent>", "null", "[]", r#""{}""#, "1"] {
            assert_eq!(error(create(with(&base, "settings", bad))), SETTINGS_MESSAGE, "{bad}");
        }
        for bad in ["1", "{}", "true"] {
            assert_eq!(error(create(with(&base, "masterBotId", bad))), "masterBotId must be a string or null");
        }
        assert_eq!(error(create("{}".into())), USER_MESSAGE);
        assert_eq!(error(create(json!({"userId": "x", "settings": 1}).to_string())), TYPE_MESSAGE);
        assert_eq!(
            error(create(json!({"userId": "x", "type": "webhook", "masterBotId": 1}).to_string())),
            SETTINGS_MESSAGE
        );
        // Every shape check comes before the user id.
        assert_eq!(
            error(create(json!({"userId": "x", "type": "webhook", "settings": {}, "masterBotId": 1}).to_string())),
            "masterBotId must be a string or null"
        );
        assert_eq!(
            create(with(&base, "userId", r#""x""#)).unwrap_err(),
            PartnerApiError::UnknownUser("User 'x' not found".into())
        );
    }

    fn preview_body() -> Value {
        json!({"userId": USER, "exchangeId": "SIM", "type": "spot_grid",
               "settings": {"symbol": "SIM_BTC_USDT_", "lowerLimit": 100.0, "gridCount": 4}})
    }

    #[test]
    fn preview_forwards_a_grid_with_its_settings_byte_for_byte() {
        let body = format!(
            r#"{{"userId": "{USER}", "exchangeId": "SIM", "type": "futures_grid", "settings": {{"lowerLimit": 1e2 }}}}"#
        );
        let check = preview(partner(), body.as_bytes()).unwrap();
        assert_eq!((check.partner_id, check.user_id, check.exchange_id.as_str()), (partner(), user(), "SIM"));
        assert_eq!((check.script_type.as_str(), check.settings.get()), ("futures_grid", r#"{"lowerLimit": 1e2 }"#));
        let check = preview(partner(), preview_body().to_string().as_bytes()).unwrap();
        assert_eq!(check.script_type, "spot_grid");
    }

    #[test]
    fn preview_checks_the_shape_then_the_type_then_the_user() {
        let base = preview_body();
        let preview = |body: String| preview(partner(), body.as_bytes());
        refuses_bad_json_and_unknown_fields(|body| super::preview(partner(), body));
        assert_eq!(error(preview(with(&base, "masterBotId", "null"))), "Unknown field 'masterBotId'");
        let exchange_message = "exchangeId is required and must be a non-empty string";
        for (field, message) in [("userId", USER_MESSAGE), ("exchangeId", exchange_message)] {
            for bad in ["<absent>", r#""""#, "null", "5", "{}"] {
                assert_eq!(error(preview(with(&base, field, bad))), message, "{field} {bad}");
            }
        }
        for bad in ["<absent>", "null", "1", r#""SPOT_GRID""#, r#""grid""#, r#""""#] {
            assert_eq!(error(preview(with(&base, "type", bad))), TYPE_MESSAGE, "{bad}");
        }
        for bad in ["<absent>", "null", "[]", r#""{}""#, "1"] {
            assert_eq!(error(preview(with(&base, "settings", bad))), SETTINGS_MESSAGE, "{bad}");
        }
        // The reference's field order: each field before the next.
        assert_eq!(error(preview("{}".into())), USER_MESSAGE);
        assert_eq!(error(preview(json!({"userId": "x", "type": 1, "settings": 1}).to_string())), exchange_message);
        assert_eq!(
            error(preview(json!({"userId": "x", "exchangeId": "SIM", "settings": 1}).to_string())),
            TYPE_MESSAGE
        );
        let webhook = json!({"userId": "x", "exchangeId": "SIM", "type": "webhook"});
        assert_eq!(error(preview(webhook.to_string())), SETTINGS_MESSAGE, "the shape before the type's preview");
        // A type without a preview, before the user (a malformed id too).
        for script in [ScriptType::SpotDca, ScriptType::FuturesDca, ScriptType::Webhook] {
            let body = with(&parsed(&with(&base, "type", &format!("\"{}\"", script.as_str()))), "userId", r#""x""#);
            let expected = PartnerApiError::PreviewUnsupported(format!(
                "Preview is only available for grid bots (spot_grid, futures_grid), not {}",
                script.as_str()
            ));
            assert_eq!(preview(body).unwrap_err(), expected, "{script:?}");
        }
        assert_eq!(
            preview(with(&base, "userId", r#""x""#)).unwrap_err(),
            PartnerApiError::UnknownUser("User 'x' not found".into())
        );
    }

    #[test]
    fn edit_needs_user_bot_and_an_object_of_settings() {
        let base = json!({"userId": USER, "botId": BOT, "settings": {"stopValue": 55000}});
        let command = edit(partner(), base.to_string().as_bytes()).unwrap();
        assert_eq!((command.partner_id, command.user_id, command.bot_id.as_str()), (partner(), user(), BOT));
        assert_eq!(command.settings.get(), r#"{"stopValue":55000}"#);
        refuses_bad_json_and_unknown_fields(|body| edit(partner(), body));
        assert_eq!(
            error(edit(partner(), with(&base, "masterBotId", "null").as_bytes())),
            "Unknown field 'masterBotId'"
        );
        for (field, message) in [("userId", USER_MESSAGE), ("botId", BOT_MESSAGE), ("settings", SETTINGS_MESSAGE)] {
            for bad in ["<absent>", "null", "5"] {
                assert_eq!(error(edit(partner(), with(&base, field, bad).as_bytes())), message, "{field} {bad}");
            }
        }
        assert_eq!(error(edit(partner(), br#"{"settings": 1, "botId": 1}"#)), USER_MESSAGE);
        assert!(matches!(
            edit(partner(), with(&base, "userId", r#""x""#).as_bytes()),
            Err(PartnerApiError::UnknownUser(_))
        ));
    }

    #[test]
    fn copy_needs_follow_updates_and_settings_that_may_be_null() {
        let base = json!({"userId": USER, "botId": BOT, "followUpdates": true, "settings": {"investmentAmount": 5000}});
        let command = copy(partner(), base.to_string().as_bytes()).unwrap();
        assert_eq!((command.user_id, command.bot_id.as_str(), command.follow_updates), (user(), BOT, true));
        assert_eq!(command.settings.as_ref().map(|raw| raw.get()), Some(r#"{"investmentAmount":5000}"#));
        let plain = copy(partner(), with(&base, "followUpdates", "false").as_bytes()).unwrap();
        assert!(!plain.follow_updates);
        assert!(copy(partner(), with(&base, "settings", "null").as_bytes()).unwrap().settings.is_none());
        let empty = copy(partner(), with(&base, "settings", "{}").as_bytes()).unwrap();
        assert_eq!(empty.settings.as_ref().map(|raw| raw.get()), Some("{}"));
        refuses_bad_json_and_unknown_fields(|body| copy(partner(), body));
        for bad in ["<absent>", "null", "1", r#""true""#] {
            let body = with(&base, "followUpdates", bad);
            assert_eq!(error(copy(partner(), body.as_bytes())), FOLLOW_UPDATES_MESSAGE, "{bad}");
        }
        for bad in ["<absent>", "[]", "1", r#""{}""#] {
            let body = with(&base, "settings", bad);
            assert_eq!(error(copy(partner(), body.as_bytes())), COPY_SETTINGS_MESSAGE, "{bad}");
        }
        assert_eq!(error(copy(partner(), with(&base, "botId", "<absent>").as_bytes())), BOT_MESSAGE);
        assert_eq!(error(copy(partner(), br#"{"followUpdates": 1}"#)), USER_MESSAGE);
        assert!(matches!(
            copy(partner(), with(&base, "userId", r#""x""#).as_bytes()),
            Err(PartnerApiError::UnknownUser(_))
        ));
    }

    #[test]
    fn start_stop_and_delete_take_only_a_bot_id() {
        let body = format!(r#"{{"botId": "{BOT}"}}"#);
        for desired in [Desired::Running, Desired::Stopped] {
            assert_eq!(
                set_status(partner(), body.as_bytes(), desired).unwrap(),
                SetHostedBotStatus { partner_id: partner(), bot_id: BOT.into(), desired }
            );
            refuses_bad_json_and_unknown_fields(|body| set_status(partner(), body, desired));
            assert_eq!(error(set_status(partner(), br#"{"botId": ""}"#, desired)), BOT_MESSAGE);
        }
        assert_eq!(
            delete(partner(), body.as_bytes()).unwrap(),
            DeleteHostedBot { partner_id: partner(), bot_id: BOT.into() }
        );
        refuses_bad_json_and_unknown_fields(|body| delete(partner(), body));
        assert_eq!(error(delete(partner(), br#"{"userId": "x", "botId": "y"}"#)), "Unknown field 'userId'");
        for bad in ["{}", r#"{"botId": null}"#, r#"{"botId": 1}"#] {
            assert_eq!(error(delete(partner(), bad.as_bytes())), BOT_MESSAGE, "{bad}");
        }
    }

    fn hosted(bot_id: &str) -> GetHostedBot {
        GetHostedBot { partner_id: partner(), user_id: None, bot_id: bot_id.into() }
    }

    #[test]
    fn orders_and_open_positions_take_only_a_bot_id_kept_as_sent() {
        assert_eq!(orders(partner(), format!(r#"{{"botId": "{BOT}"}}"#).as_bytes()).unwrap(), hosted(BOT));
        assert_eq!(orders(partner(), br#"{"botId": "zz"}"#).unwrap(), hosted("zz"), "the ledger judges the id");
        refuses_bad_json_and_unknown_fields(|body| orders(partner(), body));
        assert_eq!(error(orders(partner(), br#"{"botId": "x", "limit": 5}"#)), "Unknown field 'limit'");
        for bad in ["{}", r#"{"botId": ""}"#, r#"{"botId": null}"#, r#"{"botId": 1}"#] {
            assert_eq!(error(orders(partner(), bad.as_bytes())), BOT_MESSAGE, "{bad}");
        }
    }

    #[test]
    fn logs_start_after_the_offset_or_the_cursor() {
        let logs = |body: &str| logs(partner(), body.as_bytes());
        let query = |after_line, limit| LogsQuery { bot: hosted(BOT), after_line, limit };
        let base = json!({"botId": BOT, "limit": 100, "nextPageId": "", "offset": 0});
        assert_eq!(logs(&base.to_string()).unwrap(), query(0, 100), "the reference's example");
        assert_eq!(logs(&format!(r#"{{"botId": "{BOT}"}}"#)).unwrap(), query(0, 10_000));
        assert_eq!(logs(&with(&base, "offset", "250")).unwrap(), query(250, 100));
        assert_eq!(logs(&with(&base, "offset", "3.0")).unwrap(), query(3, 100), "an integer by value");
        assert_eq!(logs(&with(&base, "offset", "2147483647")).unwrap(), query(2_147_483_647, 100));
        assert_eq!(logs(&with(&base, "limit", "-1")).unwrap(), query(0, 10_000));
        let token = LineCursor { line: 42 }.encode();
        let next = with(&base, "nextPageId", &format!("\"{token}\""));
        assert_eq!(logs(&next).unwrap(), query(42, 100));
        let next_only = format!(r#"{{"botId": "{BOT}", "nextPageId": "{token}"}}"#);
        assert_eq!(logs(&next_only).unwrap(), query(42, 10_000), "no offset is offset 0");
        let seventh = parsed(&with(&base, "offset", "7"));
        for none in ["null", r#""""#, "<absent>"] {
            assert_eq!(logs(&with(&seventh, "nextPageId", none)).unwrap(), query(7, 100), "nextPageId {none}");
        }
    }

    #[test]
    fn closed_positions_are_paged_by_their_own_cursor() {
        let closed = |body: &str| closed_positions(partner(), body.as_bytes());
        let query = |after, limit| ClosedPositionsQuery { bot: hosted(BOT), after, limit };
        let base = json!({"botId": BOT, "limit": 50, "nextPageId": ""});
        assert_eq!(closed(&base.to_string()).unwrap(), query(None, 50), "the reference's example");
        assert_eq!(closed(&format!(r#"{{"botId": "{BOT}"}}"#)).unwrap(), query(None, 10_000));
        assert_eq!(closed(&with(&base, "limit", "-1")).unwrap(), query(None, 10_000));
        assert_eq!(closed(r#"{"botId": "zz"}"#).unwrap().bot, hosted("zz"), "the ledger judges the id");
        let cursor = ClosedPositionCursor { close_time: 1_766_073_600, position: 7 };
        let next = with(&base, "nextPageId", &format!("\"{}\"", cursor.encode()));
        let after = live::ClosedPositionCursor { close_time: 1_766_073_600, position: 7 };
        assert_eq!(closed(&next).unwrap(), query(Some(after), 50));
        for none in ["null", r#""""#, "<absent>"] {
            assert_eq!(closed(&with(&base, "nextPageId", none)).unwrap(), query(None, 50), "nextPageId {none}");
        }
    }

    #[test]
    fn closed_positions_refuse_a_bad_page_in_the_reference_order() {
        let closed = |body: &str| closed_positions(partner(), body.as_bytes());
        let base = json!({"botId": BOT, "limit": 50, "nextPageId": ""});
        assert_eq!(error(closed("{")), "Invalid JSON in request body");
        assert_eq!(error(closed("[]")), "The request body must be a JSON object");
        for empty in ["", "null", "{}"] {
            assert_eq!(error(closed(empty)), BOT_MESSAGE, "{empty:?}");
        }
        assert_eq!(error(closed(&with(&base, "offset", "0"))), "Unknown field 'offset'");
        for bad in ["<absent>", r#""""#, "null", "5"] {
            assert_eq!(error(closed(&with(&base, "botId", bad))), BOT_MESSAGE, "botId {bad}");
        }
        for bad in ["0", "10001", "-2", "1.5", r#""5""#, "null"] {
            assert_eq!(error(closed(&with(&base, "limit", bad))), paging::LIMIT_MESSAGE, "limit {bad}");
        }
        // Not a token, and the tokens of the other lists.
        let line = format!("\"{}\"", LineCursor { line: 5 }.encode());
        let time = TimeCursor { created_at: DateTime::from_timestamp(1_766_069_766, 0).unwrap(), id: Uuid::nil() };
        let time = format!("\"{}\"", time.encode());
        for bad in [r#""bad""#, r#""MC4""#, "5", "{}", &line, &time] {
            assert_eq!(error(closed(&with(&base, "nextPageId", bad))), paging::TOKEN_MESSAGE, "nextPageId {bad}");
        }
        let all_bad = json!({"botId": 1, "limit": 0, "nextPageId": 5}).to_string();
        assert_eq!(error(closed(&all_bad)), BOT_MESSAGE);
        assert_eq!(error(closed(&all_bad.replace(r#""botId":1"#, r#""botId":"b""#))), paging::LIMIT_MESSAGE);
    }

    #[test]
    fn position_orders_need_the_bot_then_the_position_kept_as_sent() {
        let orders = |body: &str| position_orders(partner(), body.as_bytes());
        let position = "0190d5f4b2c36d7e8f9a0b1c2d3e4f5a";
        let base = json!({"botId": BOT, "positionId": position});
        assert_eq!(
            orders(&base.to_string()).unwrap(),
            PositionOrdersQuery { bot: hosted(BOT), position_id: position.into() }
        );
        // A malformed position id is the runner's to refuse (1012): it travels as sent.
        let odd = with(&base, "positionId", r#""pos_abc123xyz789""#);
        assert_eq!(orders(&odd).unwrap().position_id, "pos_abc123xyz789");
        refuses_bad_json_and_unknown_fields(|body| position_orders(partner(), body));
        assert_eq!(error(orders(&with(&base, "limit", "5"))), "Unknown field 'limit'");
        for (field, message) in [("botId", BOT_MESSAGE), ("positionId", POSITION_MESSAGE)] {
            for bad in ["<absent>", r#""""#, "null", "5", "{}"] {
                assert_eq!(error(orders(&with(&base, field, bad))), message, "{field} {bad}");
            }
        }
        assert_eq!(error(orders("{}")), BOT_MESSAGE, "the reference's order");
        assert_eq!(error(orders(r#"{"positionId": 1, "botId": 1}"#)), BOT_MESSAGE);
    }

    fn parsed(body: &str) -> Value {
        serde_json::from_str(body).unwrap()
    }

    #[test]
    fn logs_refuse_a_bad_page_in_the_reference_order() {
        let logs = |body: &str| logs(partner(), body.as_bytes());
        let base = json!({"botId": BOT, "limit": 100, "nextPageId": "", "offset": 0});
        assert_eq!(error(logs("{")), "Invalid JSON in request body");
        assert_eq!(error(logs("[]")), "The request body must be a JSON object");
        for empty in ["", "null", "{}"] {
            assert_eq!(error(logs(empty)), BOT_MESSAGE, "{empty:?}");
        }
        assert_eq!(error(logs(&with(&base, "userId", r#""x""#))), "Unknown field 'userId'");
        for bad in ["<absent>", r#""""#, "null", "5"] {
            assert_eq!(error(logs(&with(&base, "botId", bad))), BOT_MESSAGE, "botId {bad}");
        }
        for bad in ["0", "10001", "-2", "1.5", r#""5""#, "null"] {
            assert_eq!(error(logs(&with(&base, "limit", bad))), paging::LIMIT_MESSAGE, "limit {bad}");
        }
        for bad in [r#""bad""#, r#""MA""#, "5", "{}"] {
            assert_eq!(error(logs(&with(&base, "nextPageId", bad))), paging::TOKEN_MESSAGE, "nextPageId {bad}");
        }
        for bad in ["-1", "1.5", "2147483648", r#""0""#, "null", "true", "[]"] {
            assert_eq!(error(logs(&with(&base, "offset", bad))), OFFSET_MESSAGE, "offset {bad}");
        }
        let next = parsed(&with(&base, "nextPageId", &format!("\"{}\"", LineCursor { line: 42 }.encode())));
        assert_eq!(error(logs(&with(&next, "offset", "5"))), OFFSET_WITH_CURSOR_MESSAGE);
        // Each field in turn: the bot first, then the page, then the offset.
        let all_bad = json!({"botId": 1, "limit": 0, "nextPageId": 5, "offset": -1}).to_string();
        assert_eq!(error(logs(&all_bad)), BOT_MESSAGE);
        assert_eq!(error(logs(&all_bad.replace(r#""botId":1"#, r#""botId":"b""#))), paging::LIMIT_MESSAGE);
        let bad_token = parsed(&with(&base, "nextPageId", "5"));
        assert_eq!(error(logs(&with(&bad_token, "offset", "-1"))), paging::TOKEN_MESSAGE);
        assert_eq!(error(logs(&with(&next, "offset", "-1"))), OFFSET_MESSAGE, "a bad offset before the pairing");
    }
}
