//! What the tests of a hosted bot's runtime routes (`partner_bot_runtime`: `bots/orders`,
//! `bots/logs`; `partner_bot_positions`: `bots/positions/...`) share: the partner's bots, an
//! in-test ledger that says whose they are, runner queries served as the runner answers about
//! a bot it does not know, and the checks every runtime route passes the same way (the ledger
//! judges the bot, then the runner; the key first; a missing backend is 9503).

use crate::partner_backtest::{KEY, fake_ledger, partner, serve};
use crate::support::{self, Gateway};
use bus::messages::hosted::{GetHostedBot, HostedBotView};
use bus::messages::live::{GetBotLogs, GetBotOrders, GetBotPositions, GetPositionOrders};
use bus::messages::partner::reference::JsonDecimal;
use bus::{BusError, Endpoint};
use domain::{BotId, UserId};
use rust_decimal::Decimal;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::value::RawValue;
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

/// The partner's bot the runner knows.
pub const BOT: &str = "6dafad4e364449c9906296aab8eff2f7";
/// The partner's bot the runner does not know (not yet heard of, or purged).
pub const GHOST: &str = "0190d5f0a1b27c3d8e4f5a6b7c8d9e0f";
/// Another partner's bot.
pub const OTHERS: &str = "895aef7fe5eb4b368ece3d4e65729769";

/// The refusal of a body without a usable `botId`.
pub const NOT_A_STRING: &str = "botId is required and must be a non-empty string";

/// The id of `BOT`, `GHOST` or `OTHERS` (either form).
pub fn bot_id(text: &str) -> BotId {
    text.parse().unwrap()
}

/// A runner-side amount, from its decimal text.
pub fn decimal(text: &str) -> JsonDecimal {
    JsonDecimal(text.parse().unwrap())
}

/// A runtime route as the tests drive it.
pub struct Route {
    /// Its path below `/partner/v1/bots/`: `orders`, `positions/open`, ...
    pub name: &'static str,
    /// A body naming `bot`, with whatever else the route requires.
    pub body: fn(bot: &str) -> String,
}

/// The body of a route that takes the bot alone.
pub fn bot_only(bot: &str) -> String {
    format!(r#"{{"botId": "{bot}"}}"#)
}

/// What the ledger and the runner were asked.
#[derive(Default)]
pub struct Seen {
    pub ledger: Vec<GetHostedBot>,
    pub orders: Vec<GetBotOrders>,
    pub logs: Vec<GetBotLogs>,
    pub positions: Vec<GetBotPositions>,
    pub position_orders: Vec<GetPositionOrders>,
}

impl Seen {
    /// Every question, the ledger's and the runner's.
    pub fn asked(&self) -> usize {
        self.ledger.len() + self.runner_bots().len()
    }

    /// The bot of every question the runner was asked, grouped by query (orders, logs,
    /// positions, a position's orders), each group in the order asked.
    pub fn runner_bots(&self) -> Vec<BotId> {
        let mut bots: Vec<BotId> = self.orders.iter().map(RunnerQuery::bot).collect();
        bots.extend(self.logs.iter().map(RunnerQuery::bot));
        bots.extend(self.positions.iter().map(RunnerQuery::bot));
        bots.extend(self.position_orders.iter().map(RunnerQuery::bot));
        bots
    }
}

/// The ledger and the runner of one test, and what they were asked.
pub type Fakes = support::Fakes<Seen>;

/// A question to the runner about one bot.
pub trait RunnerQuery {
    /// The bot it asks about.
    fn bot(&self) -> BotId;
}

impl RunnerQuery for GetBotOrders {
    fn bot(&self) -> BotId {
        self.bot_id
    }
}

impl RunnerQuery for GetBotLogs {
    fn bot(&self) -> BotId {
        self.bot_id
    }
}

impl RunnerQuery for GetBotPositions {
    fn bot(&self) -> BotId {
        self.bot_id
    }
}

impl RunnerQuery for GetPositionOrders {
    fn bot(&self) -> BotId {
        self.bot_id
    }
}

fn view(bot: &str) -> HostedBotView {
    HostedBotView {
        user_id: UserId::from_uuid(Uuid::from_u128(1)),
        bot_id: bot.into(),
        status: "running".into(),
        master_bot_id: String::new(),
        created_at: 1_766_070_000,
        script_type: "spot_grid".into(),
        exchange_id: "SIM".into(),
        settings: RawValue::from_string(r#"{"symbol":"SIM_BTC_USDT_"}"#.into()).unwrap(),
        profit: JsonDecimal(Decimal::ZERO),
        roi: JsonDecimal(Decimal::ZERO),
        cloned: 0,
        followers: 0,
    }
}

/// The ledger's `authenticate` and `hosted_bot`: the partner has `BOT` and `GHOST`; `OTHERS`
/// is another partner's. No runner yet: [`serve_runner`] adds its queries.
pub async fn ledger(gateway: &Gateway) -> Fakes {
    let fakes = Fakes::default();
    fake_ledger(gateway, &fakes.shutdown).await;
    let asked = fakes.seen.clone();
    serve(gateway, &fakes.shutdown, gateway.nats.subjects().hosted_bot(), move |query: GetHostedBot| {
        let asked = asked.clone();
        async move {
            asked.lock().unwrap().ledger.push(query.clone());
            // As the ledger reads an id: 32 hex digits or the dashed form.
            let id =
                Some(&query.bot_id).filter(|id| matches!(id.len(), 32 | 36)).and_then(|id| id.parse::<BotId>().ok());
            let owned = [bot_id(BOT), bot_id(GHOST)];
            match id.filter(|id| query.partner_id == partner() && owned.contains(id)) {
                Some(id) => Ok(view(&id.as_uuid().simple().to_string())),
                None => Err(BusError::not_found(format!("Bot '{}' not found", query.bot_id))),
            }
        }
    })
    .await;
    fakes
}

/// Serves one of the runner's queries: `record` notes it in `Seen`; the runner knows `BOT`
/// only, so any other bot is its not found, else `answer`.
pub async fn serve_runner<Query, Answer>(
    gateway: &Gateway,
    fakes: &Fakes,
    endpoint: Endpoint<Query, Answer>,
    record: fn(&mut Seen, Query),
    answer: fn(Query) -> Answer,
) where
    Query: RunnerQuery + Clone + DeserializeOwned + Send + 'static,
    Answer: Serialize + Send + 'static,
{
    let asked = fakes.seen.clone();
    serve(gateway, &fakes.shutdown, endpoint, move |query: Query| {
        let asked = asked.clone();
        async move {
            record(&mut asked.lock().unwrap(), query.clone());
            if query.bot() != bot_id(BOT) {
                return Err(BusError::not_found(format!("bot {} is not known here", query.bot())));
            }
            Ok(answer(query))
        }
    })
    .await;
}

/// A POST with the partner's key: the status, the body as text and as JSON.
async fn call(gateway: &Gateway, path: &str, body: &str) -> (u16, String, Value) {
    let response = test_support::http_client()
        .post(gateway.url(path))
        .header("x-api-key", KEY)
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    let json = serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON: {text}"));
    (status, text, json)
}

/// A success of `bots/<route>`: the body as text (to check numbers byte for byte) and its
/// `data`.
pub async fn success(gateway: &Gateway, route: &str, body: &str) -> (String, Value) {
    let (status, text, json) = call(gateway, &format!("/partner/v1/bots/{route}"), body).await;
    assert_eq!(status, 200, "{json}");
    assert_eq!((json["isSuccess"].clone(), json["code"].clone()), (json!(true), json!(0)));
    (text, json["data"].clone())
}

/// The status, code and message of a refusal of `bots/<route>`.
pub async fn refusal(gateway: &Gateway, route: &str, body: &str) -> (u16, Value, Value) {
    let (status, _, json) = call(gateway, &format!("/partner/v1/bots/{route}"), body).await;
    assert_eq!((json["isSuccess"].clone(), json["data"].clone()), (json!(false), Value::Null), "{json}");
    (status, json["code"].clone(), json["message"].clone())
}

/// The keys of a JSON object, sorted: to compare an example, a schema's properties and the
/// wire shape field by field.
pub fn sorted_keys(object: &Value) -> Vec<String> {
    let mut names: Vec<String> = object.as_object().unwrap().keys().cloned().collect();
    names.sort();
    names
}

/// The dashed form of `BOT` names the same bot on `route`: the ledger is asked about the text
/// as sent (a question of its own, as the yes is cached per text), the runner about the id.
/// Returns the answer's `data`.
pub async fn check_the_dashed_form_names_the_same_bot(gateway: &Gateway, fakes: &Fakes, route: &Route) -> Value {
    let dashed = bot_id(BOT).to_string();
    let (_, data) = success(gateway, route.name, &(route.body)(&dashed)).await;
    let seen = fakes.seen.lock().unwrap();
    assert_eq!(seen.ledger.last().map(|query| query.bot_id.as_str()), Some(dashed.as_str()));
    assert_eq!(seen.runner_bots().last(), Some(&bot_id(BOT)));
    data
}

/// Each route answers another partner's, an unknown and a malformed bot with 1002 worded as
/// `bots/get` words it: the ledger judges every id, and the runner (which `fakes` serves with
/// the ledger) is not asked.
pub async fn check_others_unknown_or_malformed_bot_is_1002(fakes: impl AsyncFn(&Gateway) -> Fakes, routes: &[Route]) {
    let gateway = Gateway::start().await;
    let fakes = fakes(&gateway).await;
    for route in routes {
        for bot in [OTHERS, "7d7e643ac399492c8adf1add09316abb", "not-a-bot", "7D7E"] {
            let expected = (404, json!(1002), json!(format!("Bot '{bot}' not found")));
            assert_eq!(refusal(&gateway, route.name, &(route.body)(bot)).await, expected, "{} {bot}", route.name);
        }
    }
    let seen = fakes.seen.lock().unwrap();
    assert_eq!(seen.ledger.len(), 4 * routes.len(), "the ledger judges every id");
    assert!(seen.ledger.iter().all(|query| query.partner_id == partner() && query.user_id.is_none()));
    assert_eq!(seen.runner_bots(), [], "the runner is not asked");
}

/// Each route answers the partner's bot that the runner does not know, in either form, with
/// 1002 worded as the ledger words it; the runner is asked about it once a refusal. Returns
/// the fakes, so the caller can tell which of the runner's queries its routes asked.
pub async fn check_a_bot_the_runner_does_not_know_is_1002(
    fakes: impl AsyncFn(&Gateway) -> Fakes,
    routes: &[Route],
) -> Fakes {
    let gateway = Gateway::start().await;
    let fakes = fakes(&gateway).await;
    let dashed = bot_id(GHOST).to_string();
    for route in routes {
        for bot in [GHOST, dashed.as_str()] {
            let expected = (404, json!(1002), json!(format!("Bot '{bot}' not found")));
            assert_eq!(refusal(&gateway, route.name, &(route.body)(bot)).await, expected, "{} {bot}", route.name);
        }
    }
    assert_eq!(fakes.seen.lock().unwrap().runner_bots(), vec![bot_id(GHOST); 2 * routes.len()]);
    fakes
}

/// `calls` (routes, repeats welcome) each answer `BOT`, then the first refuses `OTHERS` twice:
/// the ledger is asked once about `BOT` (its yes is cached per partner and bot, whichever
/// route asks) and every time about `OTHERS` (a no is not cached). Returns the fakes, so the
/// caller can tell which of the runner's queries were asked: one a call.
pub async fn check_the_ledgers_yes_is_reused_and_its_no_is_not(
    fakes: impl AsyncFn(&Gateway) -> Fakes,
    calls: &[&Route],
) -> Fakes {
    let gateway = Gateway::start().await;
    let fakes = fakes(&gateway).await;
    for route in calls {
        let path = format!("/partner/v1/bots/{}", route.name);
        assert_eq!(call(&gateway, &path, &(route.body)(BOT)).await.0, 200, "{}", route.name);
    }
    for _ in 0..2 {
        assert_eq!(refusal(&gateway, calls[0].name, &(calls[0].body)(OTHERS)).await.0, 404);
    }
    {
        let seen = fakes.seen.lock().unwrap();
        let asked: Vec<_> = seen.ledger.iter().map(|query| query.bot_id.as_str()).collect();
        assert_eq!(asked, [BOT, OTHERS, OTHERS], "one question per partner and bot within 5 s");
        assert_eq!(seen.runner_bots(), vec![bot_id(BOT); calls.len()], "the runner every time");
    }
    fakes
}

/// Each route checks the key before the body (401, code 1401); with the ledger but no runner it
/// answers 9503, the ledger's yes asked once and then cached; with no `hosted_bot` responder
/// either, 9503 too.
pub async fn check_the_key_comes_first_and_a_missing_backend_is_9503(routes: &[Route]) {
    let gateway = Gateway::start().await;
    let fakes = ledger(&gateway).await;
    for route in routes {
        let response = test_support::http_client()
            .post(gateway.url(&format!("/partner/v1/bots/{}", route.name)))
            .header("x-api-key", "wrong")
            .body("{")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 401, "{}", route.name);
        assert_eq!(response.json::<Value>().await.unwrap()["code"], 1401, "{}", route.name);
    }
    // The ledger answers; no runner does.
    for route in routes {
        let answer = refusal(&gateway, route.name, &(route.body)(BOT)).await;
        assert_eq!((answer.0, answer.1), (503, json!(9503)), "{}", route.name);
    }
    assert_eq!(fakes.seen.lock().unwrap().ledger.len(), 1, "asked once, then cached");
    drop(fakes);

    // Only `authenticate` answers: the ledger's `hosted_bot` has no responder.
    let gateway = Gateway::start().await;
    let shutdown = CancellationToken::new();
    fake_ledger(&gateway, &shutdown).await;
    for route in routes {
        let answer = refusal(&gateway, route.name, &(route.body)(BOT)).await;
        assert_eq!((answer.0, answer.1), (503, json!(9503)), "{}", route.name);
    }
    shutdown.cancel();
}
