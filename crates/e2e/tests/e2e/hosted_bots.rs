//! A partner's hosted bots through the gateway and the ledger (real Postgres and NATS): create
//! with every default filled in, edit, copy and follow, start, stop, delete, other partners'
//! ids, paging, the `hosted_bot_changed` events the runner hears, and every refusal code the
//! `bots/...` routes answer, in the envelope.

use crate::partner::{call, exchange, partner_key, post, send};
use crate::system::System;
use bus::messages::hosted::ListHostedBotRevisions;
use futures::StreamExt;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};
use trade_ledger::admin::AdminCommand;

const TYPE_MESSAGE: &str = "type must be one of spot_grid, futures_grid, spot_dollar_cost_averaging, \
                            futures_dollar_cost_averaging, webhook";

/// The spot grid of the brief.
fn grid() -> Value {
    json!({"symbol": "SIM_BTC_USDT_", "lowerLimit": 28000, "upperLimit": 31000, "gridCount": 30,
        "investmentAsset": "Quote", "investmentAmount": 9900})
}

/// A spot DCA bot on the simulated exchange.
fn dca() -> Value {
    json!({"symbol": "SIM_BTC_USDT_", "direction": "Buy", "baseOrderAmount": 100, "safetyOrderAmount": 50})
}

fn path(route: &str) -> String {
    format!("/partner/v1/{route}")
}

/// A started system and a partner's key, once the ledger answers the bot routes.
async fn started(name: &str) -> (System, String) {
    let system = System::start().await.expect("the system starts");
    let key = partner_key(&system, name).await;
    test_support::eventually("the ledger answers", Duration::from_secs(10), || async {
        (post(&system, &key, "bots/list", json!({})).await.0 == 200).then_some(())
    })
    .await;
    (system, key)
}

async fn create_user(system: &System, key: &str, body: Value) -> String {
    let (status, created) = post(system, key, "users/create", body).await;
    assert_eq!(status, 200, "{created}");
    created["data"].as_str().expect("the bare userId").to_string()
}

async fn sim_user(system: &System, key: &str) -> String {
    create_user(system, key, json!({"exchangeId": "SIM", "publicKey": "sim", "secretKey": "x"})).await
}

/// `bots/create` that must succeed: the bot.
async fn create_bot(system: &System, key: &str, user: &str, script: &str, settings: Value) -> Value {
    let body = json!({"userId": user, "type": script, "settings": settings});
    let (status, created) = post(system, key, "bots/create", body).await;
    assert_eq!(status, 200, "{created}");
    assert_eq!((created["isSuccess"].clone(), created["code"].clone()), (json!(true), json!(0)));
    created["data"].clone()
}

async fn grid_bot(system: &System, key: &str, user: &str) -> String {
    create_bot(system, key, user, "spot_grid", grid()).await["botId"].as_str().unwrap().to_string()
}

async fn get(system: &System, key: &str, user: &str, bot: &str) -> (u16, Value) {
    post(system, key, "bots/get", json!({"userId": user, "botId": bot})).await
}

/// `bots/get` that must succeed: the bot.
async fn found(system: &System, key: &str, user: &str, bot: &str) -> Value {
    let (status, found) = get(system, key, user, bot).await;
    assert_eq!(status, 200, "{found}");
    found["data"].clone()
}

async fn copy(system: &System, key: &str, user: &str, bot: &str, follow: bool, settings: Value) -> (u16, Value) {
    let body = json!({"userId": user, "botId": bot, "followUpdates": follow, "settings": settings});
    post(system, key, "bots/copy", body).await
}

async fn edit(system: &System, key: &str, user: &str, bot: &str, settings: Value) -> (u16, Value) {
    post(system, key, "bots/edit", json!({"userId": user, "botId": bot, "settings": settings})).await
}

/// `bots/start`, `bots/stop` or `bots/delete` of `bot`.
async fn by_id(system: &System, key: &str, route: &str, bot: &str) -> (u16, Value) {
    post(system, key, route, json!({"botId": bot})).await
}

async fn user_counters(system: &System, key: &str, user: &str) -> (Value, Value) {
    let (status, found) = post(system, key, "users/get", json!({"userId": user})).await;
    assert_eq!(status, 200, "{found}");
    (found["data"]["botsStarted"].clone(), found["data"]["botsActive"].clone())
}

/// Every bot id of a list route, following `nextPageId` to the end with pages of `limit`.
async fn walk(system: &System, key: &str, route: &str, mut body: Value, limit: i64) -> Vec<String> {
    let mut seen = Vec::new();
    let mut next = json!("");
    loop {
        body["limit"] = json!(limit);
        body["nextPageId"] = next;
        let (status, page) = post(system, key, route, body.clone()).await;
        assert_eq!(status, 200, "{page}");
        let items = page["data"]["items"].as_array().unwrap();
        assert!(items.len() as i64 <= limit, "{page}");
        seen.extend(items.iter().map(|bot| bot["botId"].as_str().unwrap().to_string()));
        next = page["data"]["nextPageId"].clone();
        if next.is_null() {
            return seen;
        }
        assert!(seen.len() < 50, "paging ends");
    }
}

fn assert_ok(reply: &(u16, Value), data: Value) {
    assert_eq!((reply.0, reply.1["data"].clone()), (200, data), "{}", reply.1);
    assert_eq!((reply.1["isSuccess"].clone(), reply.1["code"].clone()), (json!(true), json!(0)));
}

fn assert_refused(reply: &(u16, Value), status: u16, code: u16, message: &str) {
    assert_eq!((reply.0, reply.1["code"].clone()), (status, json!(code)), "{message}: {}", reply.1);
    assert_eq!(reply.1["isSuccess"], false, "{}", reply.1);
    assert!(reply.1["data"].is_null(), "{}", reply.1);
    assert_eq!(reply.1["message"], message);
}

fn not_found(bot: &str) -> String {
    format!("Bot '{bot}' not found")
}

fn no_user(user: &str) -> String {
    format!("User '{user}' not found")
}

/// Two JSON values equal, numbers by value (`0` = `0.0`).
fn same(a: &Value, b: &Value) -> bool {
    match (a.as_f64(), b.as_f64()) {
        (Some(a), Some(b)) => a == b,
        _ => a == b,
    }
}

fn is_wire_id(id: &str) -> bool {
    id.len() == 32 && id.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// A bot id in the API's form (32 lowercase hex), whichever form it came in.
fn wire(id: &str) -> String {
    id.parse::<uuid::Uuid>().expect("a UUID").simple().to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_spot_grid_is_created_running_with_every_default_filled_in() {
    let (system, key) = started("Hosted Partner").await;
    let user = sim_user(&system, &key).await;
    let before = chrono::Utc::now().timestamp();
    let bot = create_bot(&system, &key, &user, "spot_grid", grid()).await;

    let id = bot["botId"].as_str().unwrap().to_string();
    assert!(is_wire_id(&id), "32 lowercase hex: {id}");
    assert_eq!(
        bot.as_object().unwrap().keys().collect::<Vec<_>>(),
        [
            "botId",
            "cloned",
            "createdAt",
            "exchangeId",
            "followers",
            "masterBotId",
            "profit",
            "roi",
            "settings",
            "status",
            "type",
            "userId"
        ],
        "the reference's fields: {bot}"
    );
    assert_eq!(bot["userId"], user.as_str());
    assert_eq!(bot["status"], "running");
    assert_eq!(bot["exchangeId"], "SIM");
    assert_eq!(bot["masterBotId"], "");
    assert_eq!(bot["type"], "spot_grid");
    for counter in ["profit", "roi", "cloned", "followers"] {
        assert!(bot[counter].is_number() && same(&bot[counter], &json!(0)), "{counter} is the number 0: {bot}");
    }
    let created_at = bot["createdAt"].as_i64().expect("unix seconds as an integer");
    assert!(created_at >= before - 5 && created_at <= chrono::Utc::now().timestamp() + 5, "recent: {created_at}");

    let settings = bot["settings"].as_object().expect("settings is an object");
    assert!(settings["lowerLimit"].is_number(), "a JSON number, not a string: {}", settings["lowerLimit"]);
    for (field, value) in grid().as_object().unwrap() {
        assert!(same(&settings[field], value), "{field}: {} sent {value}", settings[field]);
    }
    assert_eq!(settings["gridMode"], "Arithmetic");
    assert_eq!(settings["tradeToFillGrid"], false);
    assert_eq!(settings["stopCondition"], "Manual");
    assert_eq!(settings["stopExit"], false);
    assert!(same(&settings["startValue"], &json!(0)) && settings["startValue"].is_number());
    assert!(same(&settings["stopValue"], &json!(0)) && settings["stopValue"].is_number());

    // Every default of the script (`scripts/script`) is there, and nothing the script lacks.
    let (status, script) = post(&system, &key, "scripts/script", json!({"type": "spot_grid"})).await;
    assert_eq!(status, 200, "{script}");
    let metadata = script["data"]["settings"].as_array().unwrap();
    for setting in metadata {
        let name = setting["key"].as_str().unwrap();
        if setting["backtestOnly"] == true {
            assert!(!settings.contains_key(name), "{name} is backtest-only");
        } else if !setting["value"].is_null() && !grid().as_object().unwrap().contains_key(name) {
            let stored = settings.get(name).unwrap_or_else(|| panic!("the default of {name} is filled in"));
            assert!(same(stored, &setting["value"]), "{name}: {stored}, default {}", setting["value"]);
        }
    }
    for name in settings.keys() {
        assert!(metadata.iter().any(|setting| setting["key"] == name.as_str()), "{name} is a spot grid setting");
    }

    assert_eq!(found(&system, &key, &user, &id).await, bot, "get answers the same bot");
    let dashed = id.parse::<uuid::Uuid>().unwrap().to_string();
    assert_eq!(found(&system, &key, &user, &dashed).await, bot, "the dashed form is taken too");
    assert_eq!(user_counters(&system, &key, &user).await, (json!(1), json!(1)));

    let (_, listed) = post(&system, &key, "bots/list", json!({})).await;
    assert_eq!(listed["data"]["items"], json!([bot.clone()]), "{listed}");
    assert!(listed["data"]["nextPageId"].is_null());
    let (_, mine) = post(&system, &key, "bots/user", json!({"userId": user})).await;
    assert_eq!(mine["data"]["items"], json!([bot]), "{mine}");
}

#[tokio::test(flavor = "multi_thread")]
async fn only_editable_settings_change_and_the_whole_object_may_come_back() {
    let (system, key) = started("Edit Partner").await;
    let user = sim_user(&system, &key).await;
    let bot = grid_bot(&system, &key, &user).await;
    let original = found(&system, &key, &user, &bot).await;

    let refused = edit(&system, &key, &user, &bot, json!({"lowerLimit": 27000})).await;
    assert_refused(&refused, 400, 1000, "settings.lowerLimit cannot be edited");
    assert_ok(
        &edit(&system, &key, &user, &bot, json!({"stopValue": 55000, "stopCondition": "Price"})).await,
        json!(true),
    );
    let edited = found(&system, &key, &user, &bot).await;
    assert!(same(&edited["settings"]["stopValue"], &json!(55000)), "{edited}");
    assert_eq!(edited["settings"]["stopCondition"], "Price");
    assert_eq!(edited["settings"]["lowerLimit"], original["settings"]["lowerLimit"]);
    assert_eq!(
        (edited["status"].clone(), edited["createdAt"].clone()),
        (json!("running"), original["createdAt"].clone())
    );

    // The whole settings back, unchanged but for the stop: fine.
    let mut whole = edited["settings"].clone();
    whole["stopValue"] = json!(56000);
    whole["stopType"] = json!("Above value");
    assert_ok(&edit(&system, &key, &user, &bot, whole.clone()).await, json!(true));
    let again = found(&system, &key, &user, &bot).await;
    for (field, value) in whole.as_object().unwrap() {
        assert!(same(&again["settings"][field], value), "{field}: {} sent {value}", again["settings"][field]);
    }
    assert_eq!(again["settings"].as_object().unwrap().len(), whole.as_object().unwrap().len());

    let unknown = edit(&system, &key, &user, &bot, json!({"foo": 1})).await;
    assert_refused(&unknown, 400, 1000, "Unknown field 'settings.foo'");
    let unknown_with_editable = edit(&system, &key, &user, &bot, json!({"stopValue": 1, "foo": 1})).await;
    assert_refused(&unknown_with_editable, 400, 1000, "Unknown field 'settings.foo'");
    let bad_value = edit(&system, &key, &user, &bot, json!({"stopValue": -1})).await;
    assert_eq!((bad_value.0, bad_value.1["code"].clone()), (400, json!(1000)), "{}", bad_value.1);
    assert!(bad_value.1["message"].as_str().unwrap().starts_with("settings.stopValue"), "{}", bad_value.1);
    assert_eq!(found(&system, &key, &user, &bot).await, again, "refused edits change nothing");

    // Another user's bot is not found through this user, and a string is not settings.
    let other = sim_user(&system, &key).await;
    assert_refused(&edit(&system, &key, &other, &bot, json!({"stopValue": 1})).await, 404, 1002, &not_found(&bot));
    assert_refused(&get(&system, &key, &other, &bot).await, 404, 1002, &not_found(&bot));
    let not_object = post(&system, &key, "bots/edit", json!({"userId": user, "botId": bot, "settings": "{}"})).await;
    assert_refused(&not_object, 400, 1000, "settings is required and must be an object");
}

#[tokio::test(flavor = "multi_thread")]
async fn copies_follow_their_root_master_until_it_is_deleted() {
    let (system, key) = started("Copy Partner").await;
    let owner = sim_user(&system, &key).await;
    let copier = sim_user(&system, &key).await;
    system.admin(exchange("KEYX", None, false)).await;
    let keyx = create_user(&system, &key, json!({"exchangeId": "KEYX", "publicKey": "pk", "secretKey": "sk"})).await;
    let master = grid_bot(&system, &key, &owner).await;
    let master_view = found(&system, &key, &owner, &master).await;

    let (status, copied) = copy(&system, &key, &copier, &master, true, json!({"investmentAmount": 5000})).await;
    assert_eq!(status, 200, "{copied}");
    let follower_view = copied["data"].clone();
    let follower = follower_view["botId"].as_str().unwrap().to_string();
    assert!(is_wire_id(&follower) && follower != master, "{follower}");
    assert_eq!(follower_view["masterBotId"], master.as_str());
    assert_eq!(
        (follower_view["userId"].clone(), follower_view["status"].clone(), follower_view["exchangeId"].clone()),
        (json!(copier), json!("running"), json!("SIM"))
    );
    assert!(same(&follower_view["settings"]["investmentAmount"], &json!(5000)), "{follower_view}");
    let mut expected = master_view["settings"].clone();
    expected["investmentAmount"] = follower_view["settings"]["investmentAmount"].clone();
    assert_eq!(follower_view["settings"], expected, "the source's settings with the override");
    assert_eq!(found(&system, &key, &copier, &follower).await, follower_view, "get answers the copy");

    // A master's edit reaches its follower; the follower's own override stays.
    assert_ok(&edit(&system, &key, &owner, &master, json!({"stopValue": 55000})).await, json!(true));
    let followed = found(&system, &key, &copier, &follower).await;
    assert!(same(&followed["settings"]["stopValue"], &json!(55000)), "{followed}");
    assert!(same(&followed["settings"]["investmentAmount"], &json!(5000)), "{followed}");
    let refused = edit(&system, &key, &copier, &follower, json!({"stopValue": 1})).await;
    let message = format!("Bot '{follower}' follows a master bot and cannot be edited directly");
    assert_refused(&refused, 409, 1008, &message);
    let shown = found(&system, &key, &owner, &master).await;
    assert_eq!((shown["cloned"].clone(), shown["followers"].clone()), (json!(1), json!(1)), "{shown}");

    // A plain copy, a copy of the follower (which follows the root master), and refusals.
    let (status, plain) = copy(&system, &key, &copier, &master, false, Value::Null).await;
    assert_eq!(status, 200, "{plain}");
    assert_eq!(plain["data"]["masterBotId"], "");
    assert_eq!(plain["data"]["settings"], found(&system, &key, &owner, &master).await["settings"]);
    let plain = plain["data"]["botId"].as_str().unwrap().to_string();
    let (status, second) = copy(&system, &key, &owner, &follower, true, json!({})).await;
    assert_eq!(status, 200, "{second}");
    assert_eq!(second["data"]["masterBotId"], master.as_str(), "the root master, not the follower");
    let second = second["data"]["botId"].as_str().unwrap().to_string();

    let elsewhere = copy(&system, &key, &keyx, &master, false, json!({})).await;
    let mismatch = format!("exchangeId 'SIM' is not an exchange user '{keyx}' has an account on (the user's: KEYX)");
    assert_refused(&elsewhere, 400, 1004, &mismatch);
    let order_size = copy(&system, &key, &copier, &master, false, json!({"orderSize": 75})).await;
    assert_refused(&order_size, 400, 1000, "Unknown field 'settings.orderSize'");
    let (_, keyx_bots) = post(&system, &key, "bots/user", json!({"userId": keyx})).await;
    assert_eq!(keyx_bots["data"]["items"], json!([]), "a refused copy made nothing");
    let shown = found(&system, &key, &owner, &master).await;
    assert_eq!((shown["cloned"].clone(), shown["followers"].clone()), (json!(2), json!(2)), "{shown}");
    let shown = found(&system, &key, &copier, &follower).await;
    assert_eq!((shown["cloned"].clone(), shown["followers"].clone()), (json!(1), json!(0)), "{shown}");

    // A stopped follower still follows (and hears its master); a deleted one no longer counts.
    assert_ok(&by_id(&system, &key, "bots/stop", &second).await, json!(true));
    let shown = found(&system, &key, &owner, &master).await;
    assert_eq!(shown["followers"], json!(2), "{shown}");
    let third = copy(&system, &key, &owner, &master, true, json!({})).await;
    assert_eq!(third.0, 200, "{}", third.1);
    let third = third.1["data"]["botId"].as_str().unwrap().to_string();
    assert_ok(&by_id(&system, &key, "bots/delete", &third).await, json!(true));
    let shown = found(&system, &key, &owner, &master).await;
    assert_eq!((shown["cloned"].clone(), shown["followers"].clone()), (json!(3), json!(2)), "{shown}");
    assert_eq!(user_counters(&system, &key, &copier).await, (json!(2), json!(2)), "each copy started");

    // Deleting the master frees its followers.
    assert_ok(&by_id(&system, &key, "bots/delete", &master).await, json!(true));
    assert_refused(&get(&system, &key, &owner, &master).await, 404, 1002, &not_found(&master));
    for (user, bot) in [(&copier, &follower), (&owner, &second)] {
        let free = found(&system, &key, user, bot).await;
        assert_eq!(
            (free["masterBotId"].clone(), free["followers"].clone(), free["status"].clone()),
            (json!(""), json!(0), free["status"].clone()),
            "{free}"
        );
    }
    assert_eq!(found(&system, &key, &owner, &second).await["status"], "stopped", "a freed bot keeps its state");
    assert_eq!(found(&system, &key, &copier, &follower).await["status"], "running");
    assert_ok(&edit(&system, &key, &copier, &follower, json!({"stopValue": 1})).await, json!(true));
    assert_eq!(found(&system, &key, &copier, &plain).await["masterBotId"], "");
}

#[tokio::test(flavor = "multi_thread")]
async fn bots_start_stop_and_delete_once_and_block_their_users_deletion_while_running() {
    let (system, key) = started("Lifecycle Partner").await;
    let user = sim_user(&system, &key).await;
    let bot = grid_bot(&system, &key, &user).await;

    assert_ok(&by_id(&system, &key, "bots/stop", &bot).await, json!(true));
    let stopped = format!("Bot '{bot}' is already stopped");
    assert_refused(&by_id(&system, &key, "bots/stop", &bot).await, 409, 1003, &stopped);
    assert_eq!(found(&system, &key, &user, &bot).await["status"], "stopped");
    assert_eq!(user_counters(&system, &key, &user).await, (json!(1), json!(0)));

    assert_ok(&by_id(&system, &key, "bots/start", &bot).await, json!(true));
    let running = format!("Bot '{bot}' is already running");
    assert_refused(&by_id(&system, &key, "bots/start", &bot).await, 409, 1003, &running);
    assert_eq!(found(&system, &key, &user, &bot).await["status"], "running");
    assert_eq!(user_counters(&system, &key, &user).await, (json!(2), json!(1)));

    // A stop replayed with its Idempotency-Key answers the first reply, not 1003.
    let stop = Some(json!({"botId": bot}));
    let first = send(&system, &key, "POST", &path("bots/stop"), stop.clone(), Some("stop-once")).await;
    let replay = send(&system, &key, "POST", &path("bots/stop"), stop, Some("stop-once")).await;
    assert_ok(&first, json!(true));
    assert_eq!(replay, first, "replayed");
    assert_ok(&by_id(&system, &key, "bots/start", &bot).await, json!(true));

    let running_user = format!("User '{user}' has running bots: stop or delete them first");
    assert_refused(&post(&system, &key, "users/delete", json!({"userId": user})).await, 409, 1003, &running_user);
    assert_eq!(found(&system, &key, &user, &bot).await["status"], "running", "the refusal changed nothing");

    // Delete stops a running bot; the id is gone from then on.
    assert_ok(&by_id(&system, &key, "bots/delete", &bot).await, json!(true));
    assert_refused(&get(&system, &key, &user, &bot).await, 404, 1002, &not_found(&bot));
    for route in ["bots/start", "bots/stop", "bots/delete"] {
        assert_refused(&by_id(&system, &key, route, &bot).await, 404, 1002, &not_found(&bot));
    }
    let refused_edit = edit(&system, &key, &user, &bot, json!({"stopValue": 1})).await;
    assert_refused(&refused_edit, 404, 1002, &not_found(&bot));
    let refused_copy = copy(&system, &key, &user, &bot, false, json!({})).await;
    assert_refused(&refused_copy, 404, 1002, &not_found(&bot));
    assert_eq!(user_counters(&system, &key, &user).await.1, json!(0));
    let (_, listed) = post(&system, &key, "bots/list", json!({})).await;
    assert_eq!(listed["data"]["items"], json!([]), "a deleted bot is not listed");
    assert_ok(&post(&system, &key, "users/delete", json!({"userId": user})).await, json!(true));

    // A user with only stopped bots is deleted with them.
    let other = sim_user(&system, &key).await;
    let kept = grid_bot(&system, &key, &other).await;
    assert_ok(&by_id(&system, &key, "bots/stop", &kept).await, json!(true));
    assert_ok(&post(&system, &key, "users/delete", json!({"userId": other})).await, json!(true));
    assert_refused(&by_id(&system, &key, "bots/start", &kept).await, 404, 1002, &not_found(&kept));
    assert_refused(&by_id(&system, &key, "bots/delete", &kept).await, 404, 1002, &not_found(&kept));
    assert_refused(&get(&system, &key, &other, &kept).await, 404, 1001, &no_user(&other));
    let (_, listed) = post(&system, &key, "bots/list", json!({})).await;
    assert_eq!(listed["data"]["items"], json!([]), "the user's bots went with them");
}

#[tokio::test(flavor = "multi_thread")]
async fn another_partners_ids_are_unknown_users_then_unknown_bots_and_lists_page_to_the_end() {
    let (system, key) = started("First Partner").await;
    let first_user = sim_user(&system, &key).await;
    let second_user = sim_user(&system, &key).await;
    let oldest = grid_bot(&system, &key, &first_user).await;
    let middle = grid_bot(&system, &key, &first_user).await;
    let newest = grid_bot(&system, &key, &second_user).await;
    let other_key = partner_key(&system, "Second Partner").await;
    let own_user = sim_user(&system, &other_key).await;
    let own_bot = grid_bot(&system, &other_key, &own_user).await;

    // The first partner's user names no user of the other partner (checked before the bot).
    let other_user = no_user(&first_user);
    let with_user = [
        ("bots/get", json!({"userId": first_user, "botId": oldest})),
        ("bots/edit", json!({"userId": first_user, "botId": oldest, "settings": {"stopValue": 1}})),
        ("bots/user", json!({"userId": first_user})),
        ("bots/create", json!({"userId": first_user, "type": "spot_grid", "settings": grid()})),
        ("bots/copy", json!({"userId": first_user, "botId": oldest, "followUpdates": false, "settings": {}})),
        ("bots/copy", json!({"userId": first_user, "botId": own_bot, "followUpdates": false, "settings": {}})),
        ("bots/get", json!({"userId": first_user, "botId": "nope"})),
    ];
    for (route, body) in with_user {
        assert_refused(&post(&system, &other_key, route, body).await, 404, 1001, &other_user);
    }
    for route in ["bots/start", "bots/stop", "bots/delete"] {
        assert_refused(&by_id(&system, &other_key, route, &oldest).await, 404, 1002, &not_found(&oldest));
    }
    let to_own = copy(&system, &other_key, &own_user, &oldest, true, json!({})).await;
    assert_refused(&to_own, 404, 1002, &not_found(&oldest));
    assert_refused(&get(&system, &other_key, &own_user, &oldest).await, 404, 1002, &not_found(&oldest));
    let edited = edit(&system, &other_key, &own_user, &oldest, json!({"stopValue": 1})).await;
    assert_refused(&edited, 404, 1002, &not_found(&oldest));
    let as_master = json!({"userId": own_user, "type": "spot_grid", "settings": grid(), "masterBotId": oldest});
    assert_refused(&post(&system, &other_key, "bots/create", as_master).await, 404, 1002, &not_found(&oldest));
    assert_eq!(walk(&system, &other_key, "bots/list", json!({}), 10).await, [own_bot], "only its own");

    // A malformed bot id is an unknown bot for a known user, and the user comes first.
    assert_refused(&get(&system, &other_key, &own_user, "nope").await, 404, 1002, &not_found("nope"));
    let stranger = uuid::Uuid::new_v4().to_string();
    assert_refused(&get(&system, &other_key, &stranger, "nope").await, 404, 1001, &no_user(&stranger));
    let edited = edit(&system, &other_key, &stranger, "nope", json!({})).await;
    assert_refused(&edited, 404, 1001, &no_user(&stranger));
    assert_refused(&by_id(&system, &other_key, "bots/stop", "nope").await, 404, 1002, &not_found("nope"));

    // Nothing the other partner tried changed the first partner's bots.
    let bot = found(&system, &key, &first_user, &oldest).await;
    assert_eq!((bot["status"].clone(), bot["cloned"].clone()), (json!("running"), json!(0)), "{bot}");
    assert!(same(&bot["settings"]["stopValue"], &json!(0)), "{bot}");
    let all = walk(&system, &key, "bots/list", json!({}), 1).await;
    assert_eq!(all, [newest.clone(), middle.clone(), oldest.clone()], "newest first, each once, only its own");
    assert_eq!(walk(&system, &key, "bots/list", json!({}), 2).await.len(), 3);
    let mine = walk(&system, &key, "bots/user", json!({"userId": first_user}), 1).await;
    assert_eq!(mine, [middle, oldest], "only that user's");
    let theirs = walk(&system, &key, "bots/user", json!({"userId": second_user}), 10).await;
    assert_eq!(theirs, [newest]);
    let (_, page) = post(&system, &key, "bots/list", json!({"limit": 1})).await;
    assert!(page["data"]["nextPageId"].is_string(), "more remain: {page}");
    let bad = post(&system, &key, "bots/list", json!({"nextPageId": "garbage!"})).await;
    assert_refused(&bad, 400, 1000, "nextPageId is not a valid page token");
    let bad = post(&system, &key, "bots/user", json!({"userId": first_user, "limit": 0})).await;
    assert_refused(&bad, 400, 1000, "limit must be -1 or between 1 and 10000");
}

/// A `hosted_bot_changed` event as it arrived: the bot (API form), its revision, `desired`,
/// and the whole envelope.
struct Changed {
    bot: String,
    revision: i64,
    desired: String,
    event: Value,
}

/// Collects `expected` events (then a little longer, to catch any extra one).
async fn collect(subscriber: &mut async_nats::Subscriber, expected: usize) -> Vec<Changed> {
    let mut events = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let wait = if events.len() < expected {
            deadline.saturating_duration_since(Instant::now())
        } else {
            Duration::from_millis(1500)
        };
        match tokio::time::timeout(wait, subscriber.next()).await {
            Ok(Some(message)) => {
                let event: Value = serde_json::from_slice(&message.payload).expect("a JSON envelope");
                let data = &event["data"];
                events.push(Changed {
                    bot: wire(data["botId"].as_str().expect("data.botId")),
                    revision: data["revision"].as_i64().expect("data.revision"),
                    desired: data["desired"].as_str().expect("data.desired").to_string(),
                    event,
                });
            }
            Ok(None) => panic!("the subscription ended"),
            Err(_) => break,
        }
    }
    assert_eq!(events.len(), expected, "{:#?}", events.iter().map(|e| &e.event).collect::<Vec<_>>());
    events
}

/// Every live bot's current revision from the ledger's `hosted_bot_revisions` query.
async fn revisions(system: &System) -> BTreeMap<String, i64> {
    let client = system.nats().client().await;
    let request = ListHostedBotRevisions { after: None, limit: 100 };
    let page =
        bus::request(&client, &system.nats().subjects().hosted_bot_revisions(), &request, Duration::from_secs(5))
            .await
            .expect("the ledger answers the revisions");
    assert!(page.next.is_none());
    page.items.iter().map(|item| (wire(&item.bot_id.to_string()), item.revision)).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn every_write_emits_the_bots_whole_definition_with_a_new_revision() {
    let (system, key) = started("Events Partner").await;
    let client = system.nats().client().await;
    let topic = system.nats().subjects().hosted_bot_changed();
    let mut subscriber = client.subscribe(topic.subject().to_string()).await.unwrap();
    client.flush().await.unwrap();
    let owner = sim_user(&system, &key).await;
    let copier = sim_user(&system, &key).await;
    let leaver = sim_user(&system, &key).await;

    let master = grid_bot(&system, &key, &owner).await; // master 1 running
    let (status, copied) = copy(&system, &key, &copier, &master, true, json!({"investmentAmount": 5000})).await;
    assert_eq!(status, 200, "{copied}"); // follower 1 running, nothing for the master
    let follower = copied["data"]["botId"].as_str().unwrap().to_string();
    // master 2 and follower 2, both running.
    assert_ok(&edit(&system, &key, &owner, &master, json!({"stopValue": 55000})).await, json!(true));
    assert_ok(&by_id(&system, &key, "bots/stop", &follower).await, json!(true)); // follower 3 stopped
    assert_ok(&by_id(&system, &key, "bots/start", &follower).await, json!(true)); // follower 4 running
    let lone = grid_bot(&system, &key, &leaver).await; // lone 1 running
    assert_ok(&by_id(&system, &key, "bots/stop", &lone).await, json!(true)); // lone 2 stopped
    // Refusals emit nothing.
    assert_eq!(by_id(&system, &key, "bots/stop", &lone).await.0, 409);
    assert_eq!(edit(&system, &key, &copier, &follower, json!({"stopValue": 1})).await.0, 409);
    assert_eq!(edit(&system, &key, &owner, &master, json!({"lowerLimit": 1})).await.0, 400);

    let live = revisions(&system).await;
    let expected_live = BTreeMap::from([(master.clone(), 2), (follower.clone(), 4), (lone.clone(), 2)]);
    assert_eq!(live, expected_live, "the ledger's revisions");

    assert_ok(&by_id(&system, &key, "bots/delete", &master).await, json!(true)); // master 3 deleted, follower 5
    assert_ok(&post(&system, &key, "users/delete", json!({"userId": leaver})).await, json!(true)); // lone 3 deleted
    assert_eq!(found(&system, &key, &copier, &follower).await["masterBotId"], "");

    let events = collect(&mut subscriber, 11).await;
    let mut per_bot: BTreeMap<String, Vec<(i64, String)>> = BTreeMap::new();
    for changed in &events {
        per_bot.entry(changed.bot.clone()).or_default().push((changed.revision, changed.desired.clone()));
    }
    let steps = |list: &[(i64, &str)]| list.iter().map(|(r, d)| (*r, d.to_string())).collect::<Vec<_>>();
    let expected = BTreeMap::from([
        (master.clone(), steps(&[(1, "running"), (2, "running"), (3, "deleted")])),
        (follower.clone(), steps(&[(1, "running"), (2, "running"), (3, "stopped"), (4, "running"), (5, "running")])),
        (lone.clone(), steps(&[(1, "running"), (2, "stopped"), (3, "deleted")])),
    ]);
    assert_eq!(per_bot, expected, "per bot, in order: (revision, desired)");

    let owners = BTreeMap::from([(master.clone(), &owner), (follower.clone(), &copier), (lone.clone(), &leaver)]);
    let ids: BTreeSet<&str> = events.iter().filter_map(|changed| changed.event["id"].as_str()).collect();
    assert_eq!(ids.len(), events.len(), "each event its own id");
    for changed in &events {
        let (event, data) = (&changed.event, &changed.event["data"]);
        assert_eq!(event["type"], "hosted_bot_changed.v1", "{event}");
        assert!(
            event["occurredAt"].as_str().is_some_and(|at| chrono::DateTime::parse_from_rfc3339(at).is_ok()),
            "{event}"
        );
        assert_eq!(data["userId"], owners[&changed.bot].as_str(), "{event}");
        assert!(data["partnerId"].is_string(), "{event}");
        assert_eq!((data["type"].clone(), data["exchangeId"].clone()), (json!("spot_grid"), json!("SIM")), "{event}");
        let settings = data["settings"].as_object().expect("the whole settings");
        assert_eq!(settings["symbol"], "SIM_BTC_USDT_");
        assert_eq!(settings["gridMode"], "Arithmetic", "defaults filled in: {event}");
        let market = &data["market"];
        assert_eq!(
            (market["symbol"].clone(), market["priceDecimals"].clone(), market["amountDecimals"].clone()),
            (json!("SIM_BTC_USDT_"), json!(2), json!(5)),
            "{event}"
        );
        assert_eq!((market["baseCurrency"].clone(), market["quoteCurrency"].clone()), (json!("BTC"), json!("USDT")));
        let edited = changed.bot != lone && changed.revision >= 2;
        let stop = if edited { json!(55000) } else { json!(0) };
        assert!(same(&settings["stopValue"], &stop), "stopValue {stop}: {event}");
        let amount = if changed.bot == follower { json!(5000) } else { json!(9900) };
        assert!(same(&settings["investmentAmount"], &amount), "investmentAmount {amount}: {event}");
    }

    let live = revisions(&system).await;
    assert_eq!(live, BTreeMap::from([(follower.clone(), 5)]), "deleted bots are not live");
}

#[tokio::test(flavor = "multi_thread")]
async fn every_refusal_code_of_the_bot_routes_in_the_envelope() {
    let (system, key) = started("Codes Partner").await;
    let user = sim_user(&system, &key).await;
    let mut codes = BTreeSet::new();
    let mut refused = |reply: &(u16, Value), status: u16, code: u16, message: &str| {
        assert_refused(reply, status, code, message);
        codes.insert(code);
    };

    // 1000: the request's shape, then the ledger's checks, in order.
    let create = |body: Value| post(&system, &key, "bots/create", body);
    refused(&create(json!({"userId": user, "type": "margin", "settings": grid()})).await, 400, 1000, TYPE_MESSAGE);
    let missing = create(json!({"userId": user, "type": "spot_grid"})).await;
    refused(&missing, 400, 1000, "settings is required and must be an object");
    let mut doge = grid();
    doge["symbol"] = json!("SIM_DOGE_USDT_");
    let unknown = create(json!({"userId": user, "type": "spot_grid", "settings": doge})).await;
    refused(&unknown, 400, 1000, "settings.symbol: unknown market 'SIM_DOGE_USDT_'");
    let webhook = create(json!({"userId": user, "type": "webhook", "settings": {"symbol": "SIM_BTC_USDT_"}})).await;
    refused(&webhook, 400, 1000, "settings.signalToken is required");
    let unknown_key = json!({"userId": user, "type": "spot_grid", "settings": {"symbol": "SIM_BTC_USDT_", "foo": 1}});
    refused(&create(unknown_key).await, 400, 1000, "Unknown field 'settings.foo'");
    let extra = json!({"userId": user, "type": "spot_grid", "settings": grid(), "name": "x"});
    refused(&create(extra).await, 400, 1000, "Unknown field 'name'");
    refused(
        &post(&system, &key, "bots/get", json!({"userId": user})).await,
        400,
        1000,
        "botId is required and must be a non-empty string",
    );
    let no_follow = post(&system, &key, "bots/copy", json!({"userId": user, "botId": "x", "settings": {}})).await;
    refused(&no_follow, 400, 1000, "followUpdates is required and must be a boolean");

    system.admin(exchange("NOADX", None, false)).await;
    system
        .admin(AdminCommand::CreateTicker {
            symbol: "NOADX_BTC_USD_".into(),
            asset_type: "crypto".into(),
            exchange: Some("NOADX".into()),
            price_decimals: 2,
            amount_decimals: 5,
            min_amount: None,
        })
        .await;
    let noadx = create_user(&system, &key, json!({"exchangeId": "NOADX", "publicKey": "pk", "secretKey": "sk"})).await;
    let mut settings = grid();
    settings["symbol"] = json!("NOADX_BTC_USD_");
    let no_adapter = create(json!({"userId": noadx, "type": "spot_grid", "settings": settings})).await;
    refused(&no_adapter, 400, 1000, "exchangeId: bots cannot run on exchange 'NOADX' (no trading adapter)");
    let (_, none) = post(&system, &key, "bots/user", json!({"userId": noadx})).await;
    assert_eq!(none["data"]["items"], json!([]), "nothing was created: {none}");

    let dca_master = create_bot(&system, &key, &user, "spot_dollar_cost_averaging", dca()).await;
    let dca_master = dca_master["botId"].as_str().unwrap().to_string();
    let differs =
        create(json!({"userId": user, "type": "spot_grid", "settings": grid(), "masterBotId": dca_master})).await;
    refused(&differs, 400, 1000, "masterBotId: type differs");

    // 1001, 1002.
    let stranger = uuid::Uuid::new_v4().to_string();
    refused(
        &create(json!({"userId": stranger, "type": "spot_grid", "settings": grid()})).await,
        404,
        1001,
        &no_user(&stranger),
    );
    let unknown_bot = uuid::Uuid::new_v4().simple().to_string();
    let as_master =
        create(json!({"userId": user, "type": "spot_grid", "settings": grid(), "masterBotId": unknown_bot})).await;
    refused(&as_master, 404, 1002, &not_found(&unknown_bot));

    // 1003, 1004, 1008.
    let bot = grid_bot(&system, &key, &user).await;
    refused(&by_id(&system, &key, "bots/start", &bot).await, 409, 1003, &format!("Bot '{bot}' is already running"));
    system.admin(exchange("KEYX", None, false)).await;
    let keyx = create_user(&system, &key, json!({"exchangeId": "KEYX", "publicKey": "pk", "secretKey": "sk"})).await;
    let mismatch = format!("exchangeId 'SIM' is not an exchange user '{keyx}' has an account on (the user's: KEYX)");
    refused(&create(json!({"userId": keyx, "type": "spot_grid", "settings": grid()})).await, 400, 1004, &mismatch);
    let as_follower =
        create(json!({"userId": user, "type": "spot_grid", "settings": grid(), "masterBotId": bot})).await;
    assert_eq!(as_follower.0, 200, "{}", as_follower.1);
    assert_eq!(as_follower.1["data"]["masterBotId"], bot.as_str());
    let follower = as_follower.1["data"]["botId"].as_str().unwrap().to_string();
    let message = format!("Bot '{follower}' follows a master bot and cannot be edited directly");
    refused(&edit(&system, &key, &user, &follower, json!({"stopValue": 1})).await, 409, 1008, &message);

    // 1011, and a replay that creates one bot.
    let replay_user = sim_user(&system, &key).await;
    let body = json!({"userId": replay_user, "type": "spot_grid", "settings": grid()});
    let first = send(&system, &key, "POST", &path("bots/create"), Some(body.clone()), Some("create-bot-1")).await;
    let second = send(&system, &key, "POST", &path("bots/create"), Some(body.clone()), Some("create-bot-1")).await;
    assert_eq!(first.0, 200, "{}", first.1);
    assert_eq!(first, second, "the same bot, replayed");
    let mut other = body.clone();
    other["settings"]["gridCount"] = json!(20);
    let reused = send(&system, &key, "POST", &path("bots/create"), Some(other), Some("create-bot-1")).await;
    assert_eq!(
        (reused.0, reused.1["code"].clone(), reused.1["isSuccess"].clone()),
        (422, json!(1011), json!(false)),
        "{}",
        reused.1
    );
    codes.insert(1011);
    let (_, created) = post(&system, &key, "bots/user", json!({"userId": replay_user})).await;
    let items = created["data"]["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "one bot: {created}");
    assert_eq!(items[0]["botId"], first.1["data"]["botId"]);
    assert_eq!(user_counters(&system, &key, &replay_user).await, (json!(1), json!(1)), "started once");

    // 1401 and 1405 on every route.
    let routes = ["list", "user", "get", "create", "edit", "copy", "start", "stop", "delete"];
    for route in routes.map(|route| format!("bots/{route}")) {
        for wrong in ["", "tb_000000000000_wrong"] {
            let (status, answer) = post(&system, wrong, &route, json!({"botId": bot})).await;
            assert_eq!(
                (status, answer["code"].clone(), answer["isSuccess"].clone()),
                (401, json!(1401), json!(false)),
                "{route}: {answer}"
            );
        }
        let (status, answer) = call(&system, &key, "GET", &path(&route), None).await;
        assert_eq!((status, answer["code"].clone()), (405, json!(1405)), "{route}: {answer}");
    }
    codes.extend([1401, 1405]);
    assert_eq!(codes, BTreeSet::from([1000, 1001, 1002, 1003, 1004, 1008, 1011, 1401, 1405]));

    // None of the refusals made a bot: the DCA master, the grid, its follower, the replayed one.
    let (_, all) = post(&system, &key, "bots/list", json!({})).await;
    assert_eq!(all["data"]["items"].as_array().unwrap().len(), 4, "{all}");
    assert_eq!(found(&system, &key, &user, &bot).await["status"], "running");
}
