//! Partner hosted bots: the routes against an in-test ledger, checking what each route sends
//! (bot ids as the client sent them, settings byte for byte, the `Idempotency-Key`), what it
//! refuses before asking anybody, and how the ledger's answers map to the envelope and its
//! codes.

use crate::partner_backtest::{KEY, fake_ledger, partner, serve};
use crate::support::{self, Gateway};
use bus::BusError;
use bus::messages::bot_api::paging::TimeCursor;
use bus::messages::hosted::{
    CopyHostedBot, CreateHostedBot, DeleteHostedBot, Desired, EditHostedBot, GetHostedBot, HostedBotView,
    HostedBotsPage, ListHostedBots, SetHostedBotStatus,
};
use bus::messages::idempotency::{Command, Replayable};
use bus::messages::partner::reference::JsonDecimal;
use chrono::DateTime;
use domain::UserId;
use rust_decimal::Decimal;
use serde_json::value::RawValue;
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

const BOT: &str = "7d7e643ac399492c8adf1add09316abb";
const COPY: &str = "0c5b9a4e1f2d4c3b8a7e6d5c4b3a2910";
/// A bot that follows a master: editing it is a conflict (1008).
const FOLLOWER: &str = "f0110e4e4f0110e4e4f0110e4e4f0110";
const SETTINGS: &str = r#"{"symbol":"SIM_BTC_USDT_","lowerLimit":28000,"upperLimit":31000,"gridCount":30,"investmentAsset":"Quote","investmentAmount":9900}"#;

fn owner() -> UserId {
    UserId::from_uuid(Uuid::from_u128(0xf873_b314_f165_45a0_b658_d15f_f37d_529a))
}

fn other_user() -> UserId {
    UserId::from_uuid(Uuid::from_u128(0x696c_712e_346b_4631_9df8_38fe_5921_1493))
}

fn view(user_id: UserId, bot_id: &str, master: &str) -> HostedBotView {
    HostedBotView {
        user_id,
        bot_id: bot_id.into(),
        status: "running".into(),
        master_bot_id: master.into(),
        created_at: 1_766_070_000,
        script_type: "spot_grid".into(),
        exchange_id: "SIM".into(),
        settings: RawValue::from_string(SETTINGS.into()).unwrap(),
        profit: JsonDecimal(Decimal::new(1250, 2)),
        roi: JsonDecimal(Decimal::new(1, 5)),
        cloned: 1,
        followers: 0,
    }
}

fn cursor() -> TimeCursor {
    TimeCursor { created_at: DateTime::from_timestamp(1_766_070_000, 0).unwrap(), id: Uuid::from_u128(1) }
}

/// What the ledger was asked.
#[derive(Default)]
struct Seen {
    lists: Vec<ListHostedBots>,
    gets: Vec<GetHostedBot>,
    creates: Vec<Command<CreateHostedBot>>,
    edits: Vec<Command<EditHostedBot>>,
    copies: Vec<Command<CopyHostedBot>>,
    statuses: Vec<Command<SetHostedBotStatus>>,
    deletes: Vec<Command<DeleteHostedBot>>,
}

impl Seen {
    fn asked(&self) -> usize {
        self.lists.len()
            + self.gets.len()
            + self.creates.len()
            + self.edits.len()
            + self.copies.len()
            + self.statuses.len()
            + self.deletes.len()
    }
}

type Fakes = support::Fakes<Seen>;

/// The ledger's order of checks: the user, then the bot (known only as `BOT`, `FOLLOWER`).
fn check(user: Option<UserId>, bot: &str) -> Result<(), BusError> {
    if let Some(user) = user
        && user != owner()
        && user != other_user()
    {
        return Err(BusError::not_found(format!("User '{user}' not found")));
    }
    if bot != BOT && bot != FOLLOWER {
        return Err(BusError::not_found(format!("Bot '{bot}' not found")));
    }
    Ok(())
}

async fn fakes(gateway: &Gateway) -> Fakes {
    let fakes = Fakes::default();
    let (seen, shutdown) = (&fakes.seen, &fakes.shutdown);
    fake_ledger(gateway, shutdown).await;
    let subjects = gateway.nats.subjects();
    let lists = seen.clone();
    serve(gateway, shutdown, subjects.hosted_bots(), move |query: ListHostedBots| {
        let lists = lists.clone();
        async move {
            lists.lock().unwrap().lists.push(query.clone());
            if let Some(user) = query.user_id {
                check(Some(user), BOT)?;
            }
            let next_page_id = query.after.is_none().then(|| cursor().encode());
            Ok(HostedBotsPage { items: vec![view(query.user_id.unwrap_or(owner()), BOT, "")], next_page_id })
        }
    })
    .await;
    let gets = seen.clone();
    serve(gateway, shutdown, subjects.hosted_bot(), move |query: GetHostedBot| {
        let gets = gets.clone();
        async move {
            gets.lock().unwrap().gets.push(query.clone());
            check(query.user_id, &query.bot_id)?;
            if query.user_id != Some(owner()) {
                return Err(BusError::not_found(format!("Bot '{}' not found", query.bot_id)));
            }
            Ok(view(owner(), &query.bot_id, ""))
        }
    })
    .await;
    let creates = seen.clone();
    serve(gateway, shutdown, subjects.create_hosted_bot(), move |command: Command<CreateHostedBot>| {
        let creates = creates.clone();
        async move {
            let key = command.idempotency.clone();
            if key.as_ref().is_some_and(|key| key.key == "reused") {
                return Err(BusError::IdempotencyKeyReused { message: "Idempotency-Key reused".into() });
            }
            let replay = key.is_some() && creates.lock().unwrap().creates.iter().any(|seen| seen.idempotency == key);
            let (user, settings) = (command.command.user_id, command.command.settings.get().to_string());
            let master = command.command.master_bot_id.clone();
            creates.lock().unwrap().creates.push(command);
            check(Some(user), master.as_deref().unwrap_or(BOT))?;
            if settings.contains("BITMEX_") {
                return Err(BusError::Forbidden {
                    message: format!("exchangeId 'BITMEX' is not the exchange of user '{user}' (SIM)"),
                });
            }
            if settings.contains("orderSize") {
                return Err(BusError::invalid("Unknown field 'settings.orderSize'"));
            }
            let created = view(user, BOT, master.as_deref().unwrap_or(""));
            if replay {
                return Ok(Replayable::Replayed(
                    RawValue::from_string(serde_json::to_string(&created).unwrap()).unwrap(),
                ));
            }
            Ok(Replayable::Fresh(created))
        }
    })
    .await;
    let edits = seen.clone();
    serve(gateway, shutdown, subjects.edit_hosted_bot(), move |command: Command<EditHostedBot>| {
        let edits = edits.clone();
        async move {
            let (user, bot) = (command.command.user_id, command.command.bot_id.clone());
            edits.lock().unwrap().edits.push(command);
            check(Some(user), &bot)?;
            if bot == FOLLOWER {
                return Err(BusError::Conflict {
                    message: format!("Bot '{bot}' follows a master bot and cannot be edited directly"),
                });
            }
            Ok(Replayable::Fresh(true))
        }
    })
    .await;
    let copies = seen.clone();
    serve(gateway, shutdown, subjects.copy_hosted_bot(), move |command: Command<CopyHostedBot>| {
        let copies = copies.clone();
        async move {
            let copy = &command.command;
            check(Some(copy.user_id), &copy.bot_id)?;
            let reply = view(copy.user_id, COPY, if copy.follow_updates { BOT } else { "" });
            copies.lock().unwrap().copies.push(command);
            Ok(Replayable::Fresh(reply))
        }
    })
    .await;
    let statuses = seen.clone();
    serve(gateway, shutdown, subjects.set_hosted_bot_status(), move |command: Command<SetHostedBotStatus>| {
        let statuses = statuses.clone();
        async move {
            let (bot, desired) = (command.command.bot_id.clone(), command.command.desired);
            statuses.lock().unwrap().statuses.push(command);
            check(None, &bot)?;
            if desired == Desired::Running {
                return Err(BusError::Conflict { message: format!("Bot '{bot}' is already running") });
            }
            Ok(Replayable::Fresh(true))
        }
    })
    .await;
    let deletes = seen.clone();
    serve(gateway, shutdown, subjects.delete_hosted_bot(), move |command: Command<DeleteHostedBot>| {
        let deletes = deletes.clone();
        async move {
            let bot = command.command.bot_id.clone();
            deletes.lock().unwrap().deletes.push(command);
            check(None, &bot)?;
            Ok(Replayable::Fresh(true))
        }
    })
    .await;
    fakes
}

/// A POST with the partner's key, optionally an `Idempotency-Key`: the status, the body as
/// text and as JSON.
async fn call(gateway: &Gateway, path: &str, body: &str, key: Option<&str>) -> (u16, String, Value) {
    let mut request = test_support::http_client()
        .post(gateway.url(path))
        .header("x-api-key", KEY)
        .header("content-type", "application/json")
        .body(body.to_string());
    if let Some(key) = key {
        request = request.header("Idempotency-Key", key);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    let json = serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON: {text}"));
    (status, text, json)
}

async fn post(gateway: &Gateway, path: &str, body: &str) -> (u16, Value) {
    let (status, _, json) = call(gateway, path, body, None).await;
    (status, json)
}

fn refusal(answer: &(u16, Value)) -> (u16, Value, Value) {
    (answer.0, answer.1["code"].clone(), answer.1["message"].clone())
}

#[tokio::test(flavor = "multi_thread")]
async fn bots_are_listed_by_page_for_the_partner_or_one_user() {
    let gateway = Gateway::start().await;
    let fakes = fakes(&gateway).await;

    let (status, text, body) = call(&gateway, "/partner/v1/bots/list", "", None).await;
    assert_eq!(status, 200, "{body}");
    assert!(text.contains(r#""profit":12.5,"roi":0.00001,"#), "numbers forwarded digit for digit: {text}");
    let bot = &body["data"]["items"][0];
    assert_eq!((bot["botId"].clone(), bot["userId"].clone()), (json!(BOT), json!(owner().to_string())));
    assert_eq!(bot["settings"], serde_json::from_str::<Value>(SETTINGS).unwrap());
    let token = body["data"]["nextPageId"].as_str().unwrap().to_string();
    let next = format!(r#"{{"limit": 10, "nextPageId": "{token}"}}"#);
    let (status, body) = post(&gateway, "/partner/v1/bots/list", &next).await;
    assert_eq!((status, body["data"]["nextPageId"].clone()), (200, Value::Null));

    let user = format!(r#"{{"userId": "{}", "limit": 10, "nextPageId": ""}}"#, other_user());
    let (status, body) = post(&gateway, "/partner/v1/bots/user", &user).await;
    assert_eq!((status, body["data"]["items"][0]["userId"].clone()), (200, json!(other_user().to_string())));
    {
        let seen = fakes.seen.lock().unwrap();
        let asked: Vec<_> = seen.lists.iter().map(|query| (query.partner_id, query.user_id, query.limit)).collect();
        assert_eq!(asked, [(partner(), None, 10_000), (partner(), None, 10), (partner(), Some(other_user()), 10)]);
        assert_eq!(seen.lists[1].after, Some(cursor()));
    }
    let unknown = UserId::new();
    let refused = post(&gateway, "/partner/v1/bots/user", &format!(r#"{{"userId": "{unknown}"}}"#)).await;
    assert_eq!(refusal(&refused), (404, json!(1001), json!(format!("User '{unknown}' not found"))));

    let asked = fakes.seen.lock().unwrap().asked();
    for (path, body, status, code, message) in [
        ("list", r#"{"limit": 0}"#, 400, 1000, "limit must be -1 or between 1 and 10000"),
        ("list", r#"{"userId": "x"}"#, 400, 1000, "Unknown field 'userId'"),
        ("user", "{}", 400, 1000, "userId is required and must be a non-empty string"),
        ("user", r#"{"userId": "x", "nextPageId": "bad"}"#, 400, 1000, "nextPageId is not a valid page token"),
        ("user", r#"{"userId": "x"}"#, 404, 1001, "User 'x' not found"),
    ] {
        let answer = post(&gateway, &format!("/partner/v1/bots/{path}"), body).await;
        assert_eq!(refusal(&answer), (status, json!(code), json!(message)), "{path} {body}");
    }
    assert_eq!(fakes.seen.lock().unwrap().asked(), asked, "refused before any request");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_bot_is_read_by_its_user_then_its_id() {
    let gateway = Gateway::start().await;
    let fakes = fakes(&gateway).await;
    let body = |user: &str, bot: &str| format!(r#"{{"userId": "{user}", "botId": "{bot}"}}"#);

    let (status, answer) = post(&gateway, "/partner/v1/bots/get", &body(&owner().to_string(), BOT)).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["data"], serde_json::to_value(view(owner(), BOT, "")).unwrap());
    assert_eq!(
        fakes.seen.lock().unwrap().gets[0],
        GetHostedBot { partner_id: partner(), user_id: Some(owner()), bot_id: BOT.into() }
    );
    // Another user's bot, an unknown one, a malformed one: 1002, named as sent.
    let refused = post(&gateway, "/partner/v1/bots/get", &body(&other_user().to_string(), BOT)).await;
    assert_eq!(refusal(&refused), (404, json!(1002), json!(format!("Bot '{BOT}' not found"))));
    let refused = post(&gateway, "/partner/v1/bots/get", &body(&owner().to_string(), "not-a-bot")).await;
    assert_eq!(refusal(&refused), (404, json!(1002), json!("Bot 'not-a-bot' not found")));
    assert_eq!(fakes.seen.lock().unwrap().gets[2].bot_id, "not-a-bot", "the ledger judges the bot id");
    // The user first: an unknown user with a malformed bot is 1001.
    let unknown = UserId::new();
    let refused = post(&gateway, "/partner/v1/bots/get", &body(&unknown.to_string(), "not-a-bot")).await;
    assert_eq!(refusal(&refused), (404, json!(1001), json!(format!("User '{unknown}' not found"))));
    let refused = post(&gateway, "/partner/v1/bots/get", &body("nope", "not-a-bot")).await;
    assert_eq!(refusal(&refused), (404, json!(1001), json!("User 'nope' not found")));
    let refused = post(&gateway, "/partner/v1/bots/get", r#"{"userId": "nope"}"#).await;
    assert_eq!(refusal(&refused), (400, json!(1000), json!("botId is required and must be a non-empty string")));
    assert_eq!(fakes.seen.lock().unwrap().gets.len(), 4, "a malformed user or missing bot asks nobody");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_bot_is_created_with_its_settings_as_sent() {
    let gateway = Gateway::start().await;
    let fakes = fakes(&gateway).await;
    let settings = r#"{ "symbol": "SIM_BTC_USDT_", "lowerLimit": 28000.00, "gridCount": 3e1 }"#;
    let body =
        format!(r#"{{"userId": "{}", "type": "spot_grid", "settings": {settings}, "masterBotId": ""}}"#, owner());

    let (status, text, answer) = call(&gateway, "/partner/v1/bots/create", &body, Some("create-1")).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["data"]["status"], "running");
    assert_eq!(answer["data"]["masterBotId"], "");
    assert!(text.contains(r#""profit":12.5,"#), "{text}");
    let (status, replayed, _) = call(&gateway, "/partner/v1/bots/create", &body, Some("create-1")).await;
    assert_eq!((status, replayed), (200, text), "a replay answers the stored reply");
    {
        let seen = fakes.seen.lock().unwrap();
        let command = &seen.creates[0];
        assert_eq!((command.command.partner_id, command.command.user_id), (partner(), owner()));
        assert_eq!(command.command.script_type, "spot_grid");
        assert_eq!(command.command.settings.get(), settings, "byte for byte");
        assert_eq!(command.command.master_bot_id, None, "\"\" is none");
        assert_eq!(command.idempotency.as_ref().unwrap().key, "create-1");
    }
    let follower = body.replace(r#""masterBotId": """#, &format!(r#""masterBotId": "{BOT}""#));
    let (status, answer) = post(&gateway, "/partner/v1/bots/create", &follower).await;
    assert_eq!((status, answer["data"]["masterBotId"].clone()), (200, json!(BOT)));

    let unknown_master = body.replace(r#""masterBotId": """#, r#""masterBotId": "nope""#);
    let refused = post(&gateway, "/partner/v1/bots/create", &unknown_master).await;
    assert_eq!(refusal(&refused), (404, json!(1002), json!("Bot 'nope' not found")));
    let unknown = UserId::new();
    let refused =
        post(&gateway, "/partner/v1/bots/create", &body.replace(&owner().to_string(), &unknown.to_string())).await;
    assert_eq!(refusal(&refused), (404, json!(1001), json!(format!("User '{unknown}' not found"))));
    let refused = post(&gateway, "/partner/v1/bots/create", &body.replace("SIM_BTC", "BITMEX_BTC")).await;
    assert_eq!(refusal(&refused).0, 400);
    assert_eq!(refusal(&refused).1, json!(1004));
    let reused = call(&gateway, "/partner/v1/bots/create", &body, Some("reused")).await;
    assert_eq!((reused.0, reused.2["code"].clone()), (422, json!(1011)));

    let asked = fakes.seen.lock().unwrap().asked();
    let type_message = gateway::api::partner::reference::TYPE_MESSAGE;
    for (body, status, code, message) in [
        (body.replace("spot_grid", "grid"), 400, 1000, type_message.to_string()),
        (body.replace(settings, "[]"), 400, 1000, "settings is required and must be an object".into()),
        (body.replace(r#""""#, "7"), 400, 1000, "masterBotId must be a string or null".into()),
        (body.replace(&owner().to_string(), "u-1"), 404, 1001, "User 'u-1' not found".into()),
        (body.replace("masterBotId", "master"), 400, 1000, "Unknown field 'master'".into()),
    ] {
        let answer = post(&gateway, "/partner/v1/bots/create", &body).await;
        assert_eq!(refusal(&answer), (status, json!(code), json!(message)), "{body}");
    }
    let bad_key = call(&gateway, "/partner/v1/bots/create", &body, Some("")).await;
    assert_eq!((bad_key.0, bad_key.2["code"].clone()), (400, json!(1000)));
    assert_eq!(fakes.seen.lock().unwrap().asked(), asked, "refused before any request");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_bot_is_edited_copied_stopped_started_and_deleted() {
    let gateway = Gateway::start().await;
    let fakes = fakes(&gateway).await;

    let edit = format!(r#"{{"userId": "{}", "botId": "{BOT}", "settings": {{"stopValue": 55000}}}}"#, owner());
    let (status, _, answer) = call(&gateway, "/partner/v1/bots/edit", &edit, Some("edit-1")).await;
    assert_eq!((status, answer["data"].clone()), (200, json!(true)), "{answer}");
    let refused = post(&gateway, "/partner/v1/bots/edit", &edit.replace(BOT, FOLLOWER)).await;
    assert_eq!(
        refusal(&refused),
        (409, json!(1008), json!(format!("Bot '{FOLLOWER}' follows a master bot and cannot be edited directly")))
    );
    {
        let seen = fakes.seen.lock().unwrap();
        assert_eq!(seen.edits[0].command.settings.get(), r#"{"stopValue": 55000}"#);
        assert_eq!((seen.edits[0].command.user_id, seen.edits[0].command.bot_id.as_str()), (owner(), BOT));
        assert_eq!(seen.edits[0].idempotency.as_ref().unwrap().key, "edit-1");
    }

    let copy = format!(
        r#"{{"userId": "{}", "botId": "{BOT}", "followUpdates": true, "settings": {{"investmentAmount": 5000}}}}"#,
        other_user()
    );
    let (status, _, answer) = call(&gateway, "/partner/v1/bots/copy", &copy, Some("copy-1")).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!((answer["data"]["botId"].clone(), answer["data"]["masterBotId"].clone()), (json!(COPY), json!(BOT)));
    let plain = copy.replace("true", "false").replace(r#"{"investmentAmount": 5000}"#, "null");
    let (status, answer) = post(&gateway, "/partner/v1/bots/copy", &plain).await;
    assert_eq!((status, answer["data"]["masterBotId"].clone()), (200, json!("")));
    {
        let seen = fakes.seen.lock().unwrap();
        let first = &seen.copies[0].command;
        assert_eq!((first.user_id, first.bot_id.as_str(), first.follow_updates), (other_user(), BOT, true));
        assert_eq!(first.settings.as_ref().map(|raw| raw.get()), Some(r#"{"investmentAmount": 5000}"#));
        assert!(seen.copies[1].command.settings.is_none() && !seen.copies[1].command.follow_updates);
    }
    let refused = post(&gateway, "/partner/v1/bots/copy", &copy.replace("true", r#""yes""#)).await;
    assert_eq!(refusal(&refused), (400, json!(1000), json!("followUpdates is required and must be a boolean")));

    let bot = format!(r#"{{"botId": "{BOT}"}}"#);
    let (status, _, answer) = call(&gateway, "/partner/v1/bots/stop", &bot, Some("stop-1")).await;
    assert_eq!((status, answer["data"].clone()), (200, json!(true)), "{answer}");
    let refused = post(&gateway, "/partner/v1/bots/start", &bot).await;
    assert_eq!(refusal(&refused), (409, json!(1003), json!(format!("Bot '{BOT}' is already running"))));
    let refused = post(&gateway, "/partner/v1/bots/stop", r#"{"botId": "nope"}"#).await;
    assert_eq!(refusal(&refused), (404, json!(1002), json!("Bot 'nope' not found")));
    {
        let seen = fakes.seen.lock().unwrap();
        let asked: Vec<_> = seen.statuses.iter().map(|command| command.command.desired).collect();
        assert_eq!(asked, [Desired::Stopped, Desired::Running, Desired::Stopped]);
        assert_eq!(seen.statuses[0].idempotency.as_ref().unwrap().key, "stop-1");
        assert_eq!(seen.statuses[0].command.partner_id, partner());
    }

    let (status, _, answer) = call(&gateway, "/partner/v1/bots/delete", &bot, Some("delete-1")).await;
    assert_eq!((status, answer["data"].clone()), (200, json!(true)), "{answer}");
    let refused = post(&gateway, "/partner/v1/bots/delete", r#"{"botId": "7D7E"}"#).await;
    assert_eq!(refusal(&refused), (404, json!(1002), json!("Bot '7D7E' not found")));
    assert_eq!(
        fakes.seen.lock().unwrap().deletes[0].command,
        DeleteHostedBot { partner_id: partner(), bot_id: BOT.into() }
    );
    let refused = post(&gateway, "/partner/v1/bots/delete", &format!(r#"{{"botId": "{BOT}", "userId": "x"}}"#)).await;
    assert_eq!(refusal(&refused), (400, json!(1000), json!("Unknown field 'userId'")));
}

#[tokio::test(flavor = "multi_thread")]
async fn every_bot_route_checks_the_key_first_and_a_missing_ledger_is_9503() {
    let gateway = Gateway::start().await;
    let shutdown = CancellationToken::new();
    fake_ledger(&gateway, &shutdown).await;
    let routes = ["list", "user", "get", "create", "edit", "copy", "start", "stop", "delete"];
    for route in routes {
        let path = format!("/partner/v1/bots/{route}");
        let response = test_support::http_client()
            .post(gateway.url(&path))
            .header("x-api-key", "wrong")
            .body("{")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 401, "{path}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["code"], 1401, "{path}");
    }
    // Only the ledger's authenticate answers: the bot subjects have no responder.
    let user = owner();
    for (route, body) in [
        ("list", String::new()),
        ("user", format!(r#"{{"userId": "{user}"}}"#)),
        ("get", format!(r#"{{"userId": "{user}", "botId": "{BOT}"}}"#)),
        ("create", format!(r#"{{"userId": "{user}", "type": "webhook", "settings": {{}}}}"#)),
        ("edit", format!(r#"{{"userId": "{user}", "botId": "{BOT}", "settings": {{}}}}"#)),
        ("copy", format!(r#"{{"userId": "{user}", "botId": "{BOT}", "followUpdates": false, "settings": null}}"#)),
        ("start", format!(r#"{{"botId": "{BOT}"}}"#)),
        ("stop", format!(r#"{{"botId": "{BOT}"}}"#)),
        ("delete", format!(r#"{{"botId": "{BOT}"}}"#)),
    ] {
        let answer = post(&gateway, &format!("/partner/v1/bots/{route}"), &body).await;
        assert_eq!((answer.0, answer.1["code"].clone()), (503, json!(9503)), "{route}: {}", answer.1);
    }
    shutdown.cancel();
}
